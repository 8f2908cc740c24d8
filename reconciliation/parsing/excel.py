"""Excel statement files (.xlsx and .xls), read with python-calamine (one reader for both: a
Rust reader of BIFF and OOXML, fast enough for 100,000-line statements).

Cells come through as they are stored: text, float, int, bool, date or datetime (calamine turns
date-formatted numbers into dates; a date stored as a plain serial number stays a number and
cells.date_cell reads it). Merged cells (titles over the table, a group header over 借方 | 贷方)
hold their value in the top-left cell only, which is what the header search expects.

Every sheet is searched for a header in order: sheets without one (a cover page, notes) are
skipped, and every sheet with one is read, because an .xls sheet stops at 65,536 rows and banks
continue a long statement on the next sheet."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO

from .csvfile import StatementFileError
from .messages import MESSAGES

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE2 compound document (BIFF inside)


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
        try:
            self._book = CalamineWorkbook.from_filelike(BytesIO(data))
            self.sheet_names = list(self._book.sheet_names)
        except Exception as err:  # noqa: BLE001 - calamine raises its own errors for a damaged file
            raise StatementFileError("bad_workbook", MESSAGES["bad_workbook"]) from err
        self.several = len(self.sheet_names) > 1

    def sections(self) -> Iterator[tuple[str, Iterator, object]]:
        """Per sheet: its name, its rows for the header search, and data_rows(start, header_line)."""
        for index, name in enumerate(self.sheet_names):
            try:
                sheet = self._book.get_sheet_by_index(index)
                # From A1 (skip_empty_area=False), so a row's index is its line in Excel.
                rows = sheet.to_python(skip_empty_area=False) if sheet.height else []
                first_row = 0
            except Exception as err:  # noqa: BLE001
                raise StatementFileError("bad_workbook", MESSAGES["bad_workbook"]) from err
            del sheet
            yield name, _numbered(rows, first_row), _data_rows(rows, first_row)
            del rows


def _numbered(rows: list, first_row: int) -> Iterator[tuple[int, list]]:
    for offset, cells in enumerate(rows):
        yield first_row + offset + 1, cells


def _data_rows(rows: list, first_row: int):
    def data_rows(start: int, header_line: int) -> Iterator[tuple[int, list]]:
        for offset in range(max(start - first_row - 1, 0), len(rows)):
            yield first_row + offset + 1, rows[offset]
            rows[offset] = None  # read once: let the sheet's memory go as it is read
    return data_rows
