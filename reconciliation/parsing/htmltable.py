"""A web page saved with an Excel name: some online banking systems download their ".xls" as an
HTML table, which Excel opens without a word. Its <tr> rows and <td>/<th> cells are read as rows
of text, in document order (title tables above the statement are the preamble), and then go
through the same header search and row rules as a workbook. A cell spanning several columns
(colspan) holds its text in its first column, like a merged Excel cell.

Only the table's text is read; scripts, styles and attributes are ignored. SpreadsheetML (Excel
2003 XML) is not read: it is refused with what to do (reader.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

from .csvfile import StatementFileError, detect_encoding
from .messages import MESSAGES

_MAX_SPAN = 50
_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)


def is_html(start: bytes) -> bool:
    """``start``: the file's first bytes, lower-cased and without a BOM or leading whitespace."""
    return start.startswith((b"<html", b"<!doctype html", b"<table", b"<meta", b"<head", b"<body")) \
        or (start.startswith(b"<!--") and b"<table" in start)


class _Rows(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span = 1
        self._skip = 0  # inside <script> or <style>

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "tr":
            self._close_row()
            self._row = []
        elif tag in ("td", "th"):
            self._close_cell()
            if self._row is None:
                self._row = []
            self._cell = []
            span = (dict(attrs).get("colspan") or "1").strip()
            self._span = min(int(span), _MAX_SPAN) if span.isascii() and span.isdigit() and len(span) <= 3 else 1
            self._span = max(self._span, 1)
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(self._skip - 1, 0)
        elif tag in ("td", "th"):
            self._close_cell()
        elif tag in ("tr", "table"):
            self._close_row()

    def handle_data(self, data):
        if self._cell is not None and not self._skip:
            self._cell.append(data)

    def _close_cell(self):
        if self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))  # whitespace as a browser shows it
            self._row.extend([""] * (self._span - 1))
        self._cell, self._span = None, 1

    def _close_row(self):
        self._close_cell()
        if self._row is not None:
            self.rows.append(self._row)
        self._row = None

    def close(self):
        super().close()
        self._close_row()


class HtmlSource:
    """The rows of every table of the page, as one section (like one sheet)."""

    file_format = "html"

    def __init__(self, data: bytes):
        declared = _CHARSET.search(data[:4096])
        encoding = declared[1].decode("ascii").lower() if declared else ""
        if encoding in ("gb2312", "gbk"):
            encoding = "gb18030"  # a superset: every byte GBK or GB2312 text has
        try:
            text = data.decode(encoding)
        except (LookupError, UnicodeDecodeError):  # no charset, or one the page does not keep to
            encoding = detect_encoding(data[:65536])
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                raise StatementFileError("undecodable", MESSAGES["undecodable"]) from None
        self.encoding = encoding
        parser = _Rows()
        parser.feed(text)
        parser.close()
        self._rows = parser.rows
        self.several = False

    def sections(self) -> Iterator[tuple[str, Iterator, object]]:
        rows = self._rows

        def numbered():
            for offset, cells in enumerate(rows):
                yield offset + 1, cells

        def data_rows(start: int, header_line: int):
            for offset in range(max(start - 1, 0), len(rows)):
                yield offset + 1, rows[offset]

        yield "", numbered(), data_rows
