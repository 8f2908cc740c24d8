"""One data row (a list of cells, from CSV or Excel) -> a StatementRow, its RowErrors, or a
SkippedRow; the same rules whatever the file format.

Direction columns. Reading an outflow as an inflow is the worst mistake this module can make, so:
- with a direction column, the amount must be unsigned: a minus sign next to a flag is a row error
  (which of the two would win is a guess), and so is an empty or unknown flag;
- a file with a direction column AND a credit/debit pair is read from the pair (the columns say
  which way the money went), and the flag is checked against it: a flag that contradicts the
  column holding the amount is a row error; an empty flag is accepted there;
- an amount header that is unsigned by name (发生额) without any direction column, or a column
  that looks like a direction flag we do not know next to a single amount column, refuses the
  whole file (reader.py) rather than reading every line as money in.

Rows that are not statement lines are skipped and counted, never errors: summary rows (合计,
Total, a layout's footer patterns), rows of separators, and rows with no date and no amount at
all (notes and signatures below the table: they carry no money). A line whose amount is zero
(interest tax of 0.00) moves no money: it is skipped and reported as such.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from . import cells as c
from .layouts import Layout
from .messages import MESSAGES

_SEPARATORS = frozenset("-=_*—–·.:：~|+ #")


@dataclass(frozen=True, slots=True)
class StatementRow:
    line: int  # the row's line in the file (CSV: where the record starts; Excel: the sheet's row)
    bank_reference: str
    value_date: datetime.date
    amount: Decimal  # signed, 2 places, positive = money in
    counterparty_name: str
    counterparty_account: str
    counterparty_bank: str
    remark: str  # every remark-like column (摘要, 附言, ...) that has text, joined with " / "
    balance: Decimal | None


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    code: str
    reason: str  # a lazy translation: str() it where it is shown, in the reader's language
    value: str = ""  # the offending cell, so staff can see what the bank wrote
    sheet: str = ""  # Excel: the sheet's name when the workbook has several


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A line that moves no money (zero amount): reported, never booked, never an error."""
    line: int
    code: str
    reason: str
    value: str = ""
    sheet: str = ""


class RowReader:
    """Reads the rows below one header with one layout's rules."""

    def __init__(self, layout: Layout, columns: dict[str, list[int]], sheet: str = ""):
        self.layout, self.sheet = layout, sheet
        self._references = columns.get("bank_reference", [])
        self._remarks = columns.get("remark", [])
        self._index = {f: idx[0] for f, idx in columns.items() if f not in ("remark", "bank_reference")}
        self._pair = "amount" not in self._index
        self._directions, self._dates = layout.directions, layout.date_formats
        self.skipped_summary = 0
        self.closing_balance: Decimal | None = None
        self.has_balance = "balance" in self._index
        self.sample: dict | None = None  # how the first good row's cells were read (for the preview)

    def read(self, line: int, cells: list) -> Sequence[StatementRow | RowError | SkippedRow]:
        width, index = len(cells), self._index

        def raw(field: str):
            return cells[i] if (i := index.get(field, width)) < width else None

        first = next((cell for cell in cells if not _blank(cell)), None)
        if first is None:  # a blank row, or only separators
            return ()
        parts = [cells[i] for i in self._references if i < width]
        reference_text = "-".join(t for p in parts if (t := c.text_cell(p)))
        date_raw = raw("value_date")
        amount_cells = [raw(f) for f in (("credit", "debit") if self._pair else ("amount",))]
        footer_probe = reference_text or (c.text_cell(first) if isinstance(first, str) else "")
        # (at most 200 characters: the patterns are operations' own regular expressions)
        if footer_probe and self.layout.footer.match(c.ascii_text(footer_probe[:200])):
            self.skipped_summary += 1
            return ()
        if all(c.is_empty(a) for a in amount_cells) and not _has_digit(date_raw):
            self.skipped_summary += 1  # a note, a signature, a page number: no date, no money
            return ()
        errors: list[RowError] = []

        def error(code: str, value="", message: str = "") -> None:
            errors.append(RowError(line, code, MESSAGES[message or code], c.shown(value), self.sheet))

        try:
            reference = "-".join(t for p in parts if (t := c.reference_cell(p)))
        except ValueError:
            reference = None
            error("bad_reference", parts[0] if len(parts) == 1 else reference_text)
        if reference == "":
            error("missing_reference")
        value_date = self._parse(c.date_cell, date_raw, "bad_date", error, self._dates)
        if value_date is None and c.is_empty(date_raw):
            error("bad_date")
        flag_raw = raw("direction")
        flag = None
        if not c.is_empty(flag_raw):
            flag = c.direction_of(c.flag_key(flag_raw), self._directions)
            if flag is None:
                error("bad_direction", flag_raw)
        amount = self._amount(amount_cells, flag, flag_raw, error)
        if amount is not None and not amount:
            return (SkippedRow(line, "zero_amount", MESSAGES["zero_amount"], reference_text[:100], self.sheet),)
        balance = self._parse(c.amount_cell, raw("balance"), "bad_balance", error)
        if errors:
            return errors
        if self.has_balance:
            self.closing_balance = balance
        remark = " / ".join(t for i in self._remarks if i < width and (t := c.text_cell(cells[i])))
        row = StatementRow(line, reference, value_date, amount, c.text_cell(raw("counterparty_name")),
                           c.text_cell(raw("counterparty_account")), c.text_cell(raw("counterparty_bank")), remark,
                           balance)
        if self.sample is None:
            self.sample = self._sample(cells, row, flag)
        return (row,)

    def _amount(self, amount_cells, flag, flag_raw, error) -> Decimal | None:
        if not self._pair:
            (cell,) = amount_cells
            if c.is_empty(cell):
                error("bad_amount", cell, "missing_amount_cell")
                return None
            amount = self._parse(c.amount_cell, cell, "bad_amount", error)
            if amount is None or not amount:
                return amount
            if "direction" in self._index:
                if amount < 0:
                    error("signed_with_direction", f"{c.shown(flag_raw)} {c.shown(cell)}")
                    return None
                if c.is_empty(flag_raw):
                    error("missing_direction")
                return amount * flag if flag is not None else None
            return amount
        credit_cell, debit_cell = amount_cells
        credit = self._parse(c.amount_cell, credit_cell, "bad_amount", error)
        debit = self._parse(c.amount_cell, debit_cell, "bad_amount", error)
        if (credit is None and not c.is_empty(credit_cell)) or (debit is None and not c.is_empty(debit_cell)):
            return None  # already an error
        if credit is None and debit is None:
            error("bad_amount", "", "missing_amount_cell")
            return None
        credit, debit = credit or c.ZERO, debit or c.ZERO
        if credit and debit:
            error("both_debit_and_credit", f"{c.shown(credit_cell)} / {c.shown(debit_cell)}")
            return None
        amount = credit - debit  # a negative credit is a red-ink reversal (红字冲正): money out
        if flag is not None and amount:
            # The pair decides; a flag must agree with it, and a red-ink reversal must not come
            # with a flag (which of the two signs would be meant is a guess).
            shown = f"{c.shown(flag_raw)} {c.shown(credit_cell if credit else debit_cell)}"
            if credit < 0 or debit < 0:
                error("signed_with_direction", shown)
                return None
            if (1 if credit else -1) != flag:
                error("direction_conflict", shown)
                return None
        return amount

    @staticmethod
    def _parse(parse, value, code, error, *args):
        if c.is_empty(value):
            return None
        if isinstance(value, str) and c.has_foreign_digits(c.ascii_text(value)):
            error(code, value, "foreign_digits" if code in ("bad_amount", "bad_balance") else "")
            return None
        try:
            return parse(value, *args)
        except ValueError:
            error(code, value)
            return None

    def _sample(self, cells, row: StatementRow, flag) -> dict:
        width = len(cells)
        out = {f: c.shown(cells[i]) for f, i in self._index.items() if i < width}
        out["bank_reference"] = " + ".join(c.shown(cells[i]) for i in self._references if i < width)
        out["remark"] = " + ".join(c.shown(cells[i]) for i in self._remarks if i < width)
        read = {"bank_reference": row.bank_reference, "value_date": row.value_date.isoformat(),
                "amount": f"{row.amount:+.2f}", "credit": f"{row.amount:+.2f}", "debit": f"{row.amount:+.2f}",
                "direction": {1: "+", -1: "−"}.get(flag, ""), "counterparty_name": row.counterparty_name,
                "counterparty_account": row.counterparty_account, "counterparty_bank": row.counterparty_bank,
                "remark": row.remark, "balance": "" if row.balance is None else f"{row.balance:.2f}"}
        return {f: {"cell": out[f], "read": read.get(f, "")} for f in out}


def _blank(cell) -> bool:
    if cell is None:
        return True
    if not isinstance(cell, str):
        return False
    text = c.ascii_text(cell)
    return not text or all(ch in _SEPARATORS for ch in text)


def _has_digit(value) -> bool:
    if value is None:
        return False
    if not isinstance(value, str):
        return True  # an Excel number or date in the date column
    return any(ch.isdigit() for ch in value)
