"""Read bank statement files — CSV, .xlsx or .xls, as operations staff download them — into
typed rows, one row at a time (see STATEMENTS.md and the README's statement section).

- cells.py: one cell into an exact amount, date, reference or flag (full-width forms mapped to
  ASCII; digits of other scripts refused; Excel floats to exact Decimals; Excel dates to dates);
- layouts.py: header words, date formats, direction values and footers: the standard table
  and the bank layouts operations keep in the admin; header and preamble recognition;
- rows.py: one data row into a StatementRow, its RowErrors, or a SkippedRow (zero amount);
- csvfile.py, excel.py, htmltable.py: the kinds of file, as rows of cells (htmltable: the web
  page some online banking saves as ".xls");
- reader.py: one pass over a file (StatementReader), parse_statement and iter_statement.

This package only reads: a row it cannot read exactly becomes a RowError with its line (never a
guess, never a rounding), and a file it cannot read at all raises StatementFileError before any
row is produced. Deciding what to book is the reconciliation services' job."""

from .cells import MAX_AMOUNT, parse_amount_text, parse_date_text  # noqa: F401
from .csvfile import CHUNK_SIZE, StatementFileError, detect_encoding  # noqa: F401
from .layouts import (  # noqa: F401
    FIELDS, STANDARD, STANDARD_DIRECTIONS, STANDARD_HEADERS, UNSIGNED_AMOUNT_HEADERS, Layout, layout_from_data,
    load_builtin,
)
from .reader import ParsedStatement, StatementReader, iter_statement, parse_statement  # noqa: F401
from .rows import RowError, SkippedRow, StatementRow  # noqa: F401

# The names the first CSV-only reader exported.
HEADERS = STANDARD_HEADERS
DIRECTION_VALUES = STANDARD_DIRECTIONS
