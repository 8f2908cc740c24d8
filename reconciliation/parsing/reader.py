"""One pass over a statement file, CSV or Excel: find the header and its layout, then read
every row below it (rows.RowReader). Whole-file problems raise StatementFileError before any
row is produced; the rest is streamed (CSV) or read sheet by sheet (Excel)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain
from typing import BinaryIO

from .cells import shown
from .csvfile import CHUNK_SIZE, CsvSource, StatementFileError, split_lines
from .excel import ExcelSource, sniff
from .htmltable import HtmlSource, is_html
from .layouts import (
    STANDARD, Layout, HeaderMapping, Preamble, best_mapping, combine_two_rows, read_preamble, unknown_direction_column,
    unsigned_amount_column,
)
from .messages import MESSAGES
from .rows import RowError, RowReader, SkippedRow, StatementRow

HEADER_SCAN_ROWS = 60  # non-blank rows searched for the header, below the banks' preamble
MAX_EXCEL_BYTES = 200 * 1024 * 1024


@dataclass
class Header:
    mapping: HeaderMapping
    line: int  # the (last) header row
    first_line: int  # the first header row (two-row headers)
    preamble: Preamble
    sheet: str = ""


@dataclass
class SheetInfo:
    name: str
    header_line: int
    layout: str


@dataclass(frozen=True)
class ParsedStatement:
    rows: list[StatementRow]
    errors: list[RowError]
    encoding: str
    columns: dict[str, str]  # field -> header text used
    skipped_summary: int
    closing_balance: Decimal | None
    skipped: list[SkippedRow] = field(default_factory=list)
    layout: Layout = STANDARD
    file_format: str = "csv"
    account_number: str = ""
    period: tuple[str, str] | None = None


def _blank(cells) -> bool:
    return not cells or all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def find_header(rows: Iterator[tuple[int, list | None]], layouts: list[Layout]) -> Header:
    """The first row (or pair of rows) that a layout reads completely; StatementFileError if
    none within HEADER_SCAN_ROWS non-blank rows, naming the headers of the closest miss."""
    preamble, seen, previous = Preamble(), 0, None
    near: tuple | None = None  # (score, line, mapping) of the row that came closest
    pending = None
    for line, cells in rows:
        if cells is not None and _blank(cells):
            continue
        if pending is not None:  # a complete header: is this row its sub-header?
            mapping, header_line, header_cells = pending
            combined = combine_two_rows(header_cells, cells or [])
            if combined and (two := best_mapping(layouts, combined)) and two.complete \
                    and two.score() > mapping.score():
                return Header(two, line, header_line, preamble)
            return Header(mapping, header_line, header_line, preamble)
        seen += 1
        mapping = best_mapping(layouts, cells or [])
        if mapping is not None and mapping.complete:
            pending = (mapping, line, cells)
            continue
        if previous is not None and (combined := combine_two_rows(previous[1], cells or [])):
            two = best_mapping(layouts, combined)
            if two is not None and two.complete:
                return Header(two, line, previous[0], preamble)
        if mapping is not None and cells:
            score = (sum(map(len, mapping.columns.values())), sum(1 for c in cells if isinstance(c, str) and c.strip()))
            if near is None or score > near[0]:
                near = (score, line, mapping)
        read_preamble(preamble, cells or [])
        previous = (line, cells or [])
        if seen >= HEADER_SCAN_ROWS:
            break
    if pending is not None:
        return Header(pending[0], pending[1], pending[1], preamble)
    if not seen:
        raise StatementFileError("empty", MESSAGES["empty"])
    missing = near[2].missing if near and near[0][0] > 1 else ""
    message = str(MESSAGES[f"missing_{missing}" if missing else "no_header"])
    if near is not None:
        headers = ", ".join(f"“{h}”" for h in near[2].headers if h)[:1500]
        message += " " + str(MESSAGES["headers_found"] % {"line": near[1], "headers": headers})
    raise StatementFileError("missing_column" if missing else "no_header", message)


def _check(mapping: HeaderMapping) -> None:
    if column := unsigned_amount_column(mapping):
        raise StatementFileError("unsigned_amount", MESSAGES["unsigned_amount"] % {"column": column})
    if column := unknown_direction_column(mapping):
        raise StatementFileError("unknown_direction", MESSAGES["unknown_direction"] % {"column": column})


class StatementReader:
    """One pass over a file. For streaming callers that also want what the file told us:
    ``file_format``, ``encoding``, ``layout``, ``columns``, ``samples``, ``account_number``,
    ``period``, ``skipped_summary`` and ``closing_balance`` (complete once iteration has finished).

    ``layouts``: the bank layouts to recognise besides the standard one
    (reconciliation.selectors.statement_layouts gives the active ones from the database)."""

    def __init__(self, source: Iterable[bytes] | BinaryIO | bytes, layouts: Iterable[Layout] = (),
                 composite_reference: bool = False):
        """``composite_reference``: key each line on every reference column of the header, joined
        (柜员流水号-交易参考号), instead of the preferred one alone."""
        self.layouts = [STANDARD, *[layout for layout in layouts if not layout.is_standard]]
        self.composite_reference = composite_reference
        lines, head, size = split_lines(source), [], 0
        while size < CHUNK_SIZE and (raw := next(lines, None)) is not None:
            head.append(raw)
            size += len(raw)
        self.file_format = sniff(head[0] if head else b"")
        start = b"".join(head[:3])[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if self.file_format == "csv" and is_html(start):
            self.file_format = "html"
        elif self.file_format == "csv" and start.startswith(b"<?xml"):
            raise StatementFileError("xml_spreadsheet", MESSAGES["xml_spreadsheet"])
        if self.file_format == "csv":
            self._source = CsvSource(lines, head)
        elif self.file_format == "html":
            self._source = HtmlSource(b"".join(chain_bytes(head, lines, MAX_EXCEL_BYTES)))
        else:
            data = b"".join(chain_bytes(head, lines, MAX_EXCEL_BYTES))
            self._source = ExcelSource(data, self.file_format)
            del data
        self.skipped_summary, self.closing_balance = 0, None
        self.sheets: list[SheetInfo] = []
        self._sections = self._source.sections()
        self._first = self._next_section(first=True)
        header = self._first[0]
        self.layout = header.mapping.layout
        self.header_line = header.line
        self.account_number = header.preamble.account_number
        self.period = header.preamble.period
        mapping = header.mapping
        # Reference columns the importer may join if the chosen one is not unique in the file.
        self.reference_alternatives = len(mapping.reference_candidates) > len(mapping.columns["bank_reference"])
        self.columns = {f: " + ".join(mapping.headers[i] for i in idx) for f, idx in mapping.columns.items()}
        known = {i for idx in mapping.columns.values() for i in idx}
        self.ignored_columns = [h for i, h in enumerate(mapping.headers) if h and i not in known]
        self.samples: dict = {}

    @property
    def encoding(self) -> str:
        return self._source.encoding

    def _next_section(self, first: bool = False):
        """The next sheet (or the CSV file) with a header: (Header, data rows); None when done."""
        failure = None
        for name, search, data_rows in self._sections:
            try:
                header = find_header(search, self.layouts)
            except StatementFileError as err:
                if self.file_format == "csv":
                    raise
                failure = failure or err if err.code != "empty" else failure
                continue
            header.sheet = name if getattr(self._source, "several", False) else ""
            _check(header.mapping)
            if self.composite_reference and len(header.mapping.reference_candidates) > 1:
                header.mapping.columns["bank_reference"] = list(header.mapping.reference_candidates)
            self.sheets.append(SheetInfo(name, header.line, header.mapping.layout.code))
            return header, data_rows(header.line + 1, header.first_line)
        if first:
            raise failure or StatementFileError("empty", MESSAGES["empty"])
        return None

    def __iter__(self) -> Iterator[StatementRow | RowError | SkippedRow]:
        section, first = self._first, True
        while section is not None:
            header, data = section
            reader = RowReader(header.mapping.layout, header.mapping.columns, header.sheet)
            headers = header.mapping.headers
            probe = next((i for i, h in enumerate(headers) if h), 0)
            for line, cells in data:
                if isinstance(cells, str):
                    yield RowError(line, cells, MESSAGES[cells])
                    continue
                if len(cells) > probe and isinstance(cells[probe], str) \
                        and cells[probe].strip() == headers[probe] and _repeats_header(cells, headers):
                    self.skipped_summary += 1  # a page's header repeated (multi-page exports)
                    continue
                yield from reader.read(line, cells)
            self.skipped_summary += reader.skipped_summary
            if reader.has_balance and reader.closing_balance is not None:
                self.closing_balance = reader.closing_balance
            if first and reader.sample:
                self.samples = reader.sample
            first = False
            section = self._next_section()


def _repeats_header(cells, headers: list[str]) -> bool:
    return [shown(c) for c in cells[:len(headers)]] == headers[:len(cells)]


def chain_bytes(head: list[bytes], lines: Iterator[bytes], limit: int) -> Iterator[bytes]:
    """The whole workbook (Excel needs it at once), refused past ``limit`` bytes."""
    size = 0
    for chunk in chain(head, lines):
        size += len(chunk)
        if size > limit:
            raise StatementFileError("bad_workbook", MESSAGES["bad_workbook"])
        yield chunk


def iter_statement(stream, layouts: Iterable[Layout] = ()) -> Iterator[StatementRow | RowError | SkippedRow]:
    """Yield each data row, its errors or its skip, in file order; whole-file problems raise at once."""
    return iter(StatementReader(stream, layouts))


def parse_statement(data, layouts: Iterable[Layout] = ()) -> ParsedStatement:
    """Read a whole file (for tests and small files); the importer streams instead."""
    reader, rows, errors, skipped = StatementReader(data, layouts), [], [], []
    for item in reader:
        (rows if isinstance(item, StatementRow) else errors if isinstance(item, RowError) else skipped).append(item)
    return ParsedStatement(rows, errors, reader.encoding, reader.columns, reader.skipped_summary,
                           reader.closing_balance, skipped, reader.layout, reader.file_format, reader.account_number,
                           reader.period)
