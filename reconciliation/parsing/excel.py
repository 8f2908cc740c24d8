"""Excel statement files (.xlsx and .xls), read with python-calamine (one reader for both: a
Rust reader of BIFF and OOXML, fast enough for 100,000-line statements).

Cells come through as they are stored: text, float, int, bool, date or datetime (calamine turns
date-formatted numbers into dates; a date stored as a plain serial number stays a number and
cells.date_cell reads it). Merged cells (titles over the table, a group header over 借方 | 贷方)
hold their value in the top-left cell only, which is what the header search expects.

Every sheet is searched for a header in order: sheets without one (a cover page, notes) are
skipped, and every sheet with one is read, because an .xls sheet stops at 65,536 rows and banks
continue a long statement on the next sheet.

A damaged .xls can make calamine's BIFF reader panic or even abort the process (a corrupt record
length asks for terabytes), which would take a web or worker process down with the import. So a
.xls is first read once in a child process under a memory limit (_readable); only a workbook that
reads there is read here. .xlsx (a zip with checksums) fails cleanly and is read directly."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from io import BytesIO

from .csvfile import StatementFileError
from .messages import MESSAGES

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE2 compound document (BIFF inside)
_CHILD_MEMORY = 4 * 1024**3  # address space of the child that tries a .xls first
_CHILD_SECONDS = 120
_TRY_READ = """
import io, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from python_calamine import CalamineWorkbook
book = CalamineWorkbook.from_filelike(io.BytesIO(sys.stdin.buffer.read()))
for index in range(len(book.sheet_names)):
    book.get_sheet_by_index(index).to_python(skip_empty_area=False)
"""


def sniff(head: bytes) -> str:
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    if head.startswith(XLS_MAGIC):
        return "xls"
    return "csv"


class ExcelSource:
    """The rows of every sheet of a workbook, sheet by sheet (see the module docstring)."""

    encoding = ""

    def __init__(self, data: bytes, file_format: str):
        from python_calamine import CalamineWorkbook

        self.file_format = file_format
        if file_format == "xls" and not _readable(data):
            raise StatementFileError("bad_workbook", MESSAGES["bad_workbook"])
        try:
            self._book = CalamineWorkbook.from_filelike(BytesIO(data))
            self.sheet_names = list(self._book.sheet_names)
        except BaseException as err:  # calamine's own errors, and a Rust panic, for a damaged file
            raise _refusal(err) from err
        self.several = len(self.sheet_names) > 1

    def sections(self) -> Iterator[tuple[str, Iterator, object]]:
        """Per sheet: its name, its rows for the header search, and data_rows(start, header_line)."""
        for index, name in enumerate(self.sheet_names):
            try:
                sheet = self._book.get_sheet_by_index(index)
                # From A1 (skip_empty_area=False), so a row's index is its line in Excel.
                rows = sheet.to_python(skip_empty_area=False) if sheet.height else []
                first_row = 0
            except BaseException as err:
                raise _refusal(err) from err
            del sheet
            yield name, _numbered(rows, first_row), _data_rows(rows, first_row)
            del rows


def _refusal(err: BaseException) -> StatementFileError:
    """The refusal for what calamine raised; anything that is not calamine's is raised again.
    A Rust panic arrives as pyo3's PanicException, which derives from BaseException."""
    if not isinstance(err, Exception) and type(err).__name__ != "PanicException":
        raise err
    return StatementFileError("bad_workbook", MESSAGES["bad_workbook"])


def _readable(data: bytes) -> bool:
    """True when a child process reads every sheet of the workbook without crashing."""
    try:
        done = subprocess.run([sys.executable, "-I", "-c", _TRY_READ.format(limit=_CHILD_MEMORY)], input=data,
                              capture_output=True, timeout=_CHILD_SECONDS, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _numbered(rows: list, first_row: int) -> Iterator[tuple[int, list]]:
    for offset, cells in enumerate(rows):
        yield first_row + offset + 1, cells


def _data_rows(rows: list, first_row: int):
    def data_rows(start: int, header_line: int) -> Iterator[tuple[int, list]]:
        for offset in range(max(start - first_row - 1, 0), len(rows)):
            yield first_row + offset + 1, rows[offset]
            rows[offset] = None  # read once: let the sheet's memory go as it is read
    return data_rows
