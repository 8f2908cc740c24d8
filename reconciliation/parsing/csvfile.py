"""CSV (or tab-separated) statement files: bytes -> physical lines -> decoded text -> cells.

UTF-8 with or without a BOM, or GBK/GB18030, detected, never asked. The file is read once, in
chunks: the header search parses line by line (title lines may use another delimiter), then the
rest goes through csv.reader with the header's delimiter, so a quoted field may span lines."""

from __future__ import annotations

import codecs
import csv
from collections import deque
from collections.abc import Iterable, Iterator
from functools import partial
from itertools import chain
from typing import BinaryIO

from .messages import MESSAGES

CHUNK_SIZE = 64 * 1024


class StatementFileError(Exception):
    """The whole file is refused: empty, undecodable, no header, or a required column missing."""

    def __init__(self, code: str, message: str):
        super().__init__(code)
        self.code, self.message = code, message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def detect_encoding(data: bytes) -> str:
    """Return "utf-8-sig", "utf-8" or "gb18030" for a file or its first chunk.

    A multibyte character cut at the end of ``data`` is tolerated, so a prefix can be passed.
    UTF-8 wins whenever it is valid: GBK text of any length is almost never valid UTF-8.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(data, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    raise StatementFileError("undecodable", MESSAGES["undecodable"])


class CsvSource:
    """Rows of one CSV file: ``search_rows()`` for the header search, then ``data_rows(line)``
    from a line on (lines read during the search are replayed, not read twice)."""

    file_format = "csv"

    def __init__(self, lines: Iterator[bytes], head: list[bytes]):
        self.encoding = detect_encoding(b"".join(head)[:CHUNK_SIZE])  # same for bytes, files, generators
        if self.encoding == "utf-8-sig":
            head[0] = head[0][len(codecs.BOM_UTF8):]
        # An all-ASCII start says nothing yet: the first non-ASCII line decides, so a file with
        # English headers and, from line 2,000 on, Chinese names in GBK still reads.
        ascii_start = all(raw.isascii() for raw in head)
        self._codec = "utf-8" if self.encoding == "utf-8-sig" else None if ascii_start else self.encoding
        self._lines = enumerate(chain(head, lines), start=1)
        self._replay: deque[tuple[int, bytes]] = deque()
        self.delimiters: dict[int, str] = {}
        self.line = 0

    def sections(self):
        yield "", self.search_rows(), self.data_rows

    def _decode(self, raw: bytes) -> str | None:
        if raw.isascii():
            return raw.decode("ascii")
        for codec in [self._codec] if self._codec else ["utf-8", "gb18030"]:
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                continue
            if self._codec is None:
                self._codec = self.encoding = codec
            return text
        return None

    def search_rows(self) -> Iterator[tuple[int, list[str] | None]]:
        """Each physical line on its own (None for a line that is not text in the encoding)."""
        for line, raw in self._lines:
            self._replay.append((line, raw))
            text = self._decode(raw)
            if text is None:
                yield line, None
                continue
            delimiter = "\t" if text.count("\t") > text.count(",") else ","
            self.delimiters[line] = delimiter
            try:
                cells = next(csv.reader([text], delimiter=delimiter), [])
            except csv.Error:  # e.g. a field over csv.field_size_limit()
                cells = []
            yield line, cells

    def data_rows(self, start: int, header_line: int) -> Iterator[tuple[int, list[str] | str]]:
        """(line, cells) from ``start`` on; cells is a row-error code for a broken line."""
        while self._replay and self._replay[0][0] < start:
            self._replay.popleft()
        undecodable: list[int] = []
        physical = chain(self._replay, self._lines)

        def texts() -> Iterator[str]:
            for self.line, raw in physical:
                if (text := self._decode(raw)) is None:
                    undecodable.append(self.line)
                yield "\n" if text is None else text

        records = csv.reader(texts(), delimiter=self.delimiters.get(header_line, ","))
        end = start - 1
        while True:
            try:
                cells = next(records)
            except StopIteration:
                return
            except csv.Error:
                cells = "malformed_row"
            line, end = end + 1, self.line  # a quoted field may span several physical lines
            if undecodable:
                undecodable.clear()
                cells = "undecodable_line"
            yield line, cells


def split_lines(source: Iterable[bytes] | BinaryIO | bytes) -> Iterator[bytes]:
    """Physical lines, b"\n" included. Splitting before decoding is safe: no UTF-8 or GB18030
    multibyte sequence contains the byte 0x0A."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = [source]
    elif hasattr(source, "read"):
        source = iter(partial(source.read, CHUNK_SIZE), b"")
    pending = bytearray()
    for chunk in source:
        pending += chunk  # a str chunk (a file opened in text mode) raises TypeError here
        start = 0
        while (end := pending.find(b"\n", start)) != -1:
            yield bytes(pending[start:end + 1])
            start = end + 1
        del pending[:start]
    if pending:
        yield bytes(pending)
