"""Read bank statement CSV files into typed rows, one row at a time.

Files come straight out of banks' systems (see STATEMENTS.md): UTF-8 with or without a BOM,
or GBK/GB18030; English or Chinese headers in any order, possibly below a few title lines; one
signed amount column, a credit/debit pair, or an unsigned amount with a direction column
(借贷标志 / 收支标志: 贷/C/收 = money in, 借/D/支 = money out); summary rows at the end.
This module only reads:
a row it cannot read exactly becomes a RowError with its physical line number (never a guess,
never a rounding), and a file it cannot read at all raises StatementFileError before any row is
produced. Deciding what to book is the reconciliation services' job.

Direction columns. Reading an outflow as an inflow is the worst mistake this module can make, so:
- with a direction column, the amount must be unsigned: a minus sign next to a flag is a row error
  (which of the two would win is a guess), and so is an empty or unknown flag;
- a file with a direction column AND a credit/debit pair is read from the pair (the columns say
  which way the money went), and the flag is checked against it: a flag that contradicts the
  column holding the amount is a row error; an empty flag is accepted there;
- an amount header that is unsigned by name (发生额) without any direction column, or a column
  that looks like a direction flag we do not know (借贷标记, D/C Indicator ...) next to a single
  amount column, refuses the whole file rather than reading every line as money in.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from itertools import chain
from typing import BinaryIO

from django.utils.translation import gettext_lazy as _

CHUNK_SIZE = 64 * 1024
HEADER_SCAN_LINES = 20  # non-blank lines searched for the header, below the banks' title lines
MAX_AMOUNT = Decimal("999999999999.99")
CENT, ZERO = Decimal("0.01"), Decimal("0.00")

# The order is a preference: a file with both 流水号 and 凭证号 is keyed on 流水号.
HEADERS = {
    "bank_reference": ("bank_reference", "reference", "serial_no", "流水号", "交易流水号",
                       "凭证号"),
    "value_date": ("value_date", "date", "交易日期", "记账日期"),
    "amount": ("amount", "交易金额", "金额", "发生额", "交易发生额"),
    "credit": ("credit", "贷方发生额", "收入金额"),
    "debit": ("debit", "借方发生额", "支出金额"),
    "counterparty_name": ("counterparty_name", "payer_name", "对方户名", "对方名称"),
    "counterparty_account": ("counterparty_account", "对方账号"),
    "counterparty_bank": ("counterparty_bank", "对方开户行", "对方行名"),
    "remark": ("remark", "memo", "摘要", "附言", "用途", "备注"),
    "balance": ("balance", "余额", "账户余额"),
    "direction": ("direction", "dc_flag", "dr_cr", "debit_credit", "d/c", "借贷标志", "收支标志", "借贷方向",
                  "交易方向", "收付标志", "借贷", "借/贷", "收支", "收/支"),
}
# Amount headers that banks only use for an unsigned amount next to a direction column.
UNSIGNED_AMOUNT_HEADERS = ("发生额", "交易发生额")
# What a direction cell may say (case-insensitive, spaces ignored): +1 money in, -1 money out.
# 借/贷 are the bank's own books: 贷 (credit) raises the customer's deposit, as in 贷方发生额.
DIRECTION_VALUES = {
    **dict.fromkeys(("贷", "贷方", "c", "cr", "credit", "收", "收入", "收款", "来账", "in"), 1),
    **dict.fromkeys(("借", "借方", "d", "dr", "debit", "支", "支出", "付", "付款", "往账", "out"), -1),
}
# An unknown header that looks like a direction flag (see the module docstring).
_DIRECTION_LIKE = re.compile(r"借贷|收支|收付|方向|direction|debit.?credit|credit.?debit"
                             r"|^(dr|d)_?/?_?(cr|c)(_|$)|^(cr|c)_?/?_?(dr|d)(_|$)")
_ALIASES = {alias: (field, rank) for field, names in HEADERS.items() for rank, alias in enumerate(names)}
_MESSAGES = {  # code -> what staff read; file-level codes first, then row-level codes
    "empty": _("The file is empty."),
    "undecodable": _("The file is neither UTF-8 nor GBK/GB18030 text."),
    "no_header": _("No statement header (流水号, 交易日期, 金额 ...) was found in the first 20 lines."),
    "missing_bank_reference": _("The header has no bank reference column (流水号 / bank_reference)."),
    "missing_value_date": _("The header has no date column (交易日期 / value_date)."),
    "missing_amount": _("The header has no amount column (金额 / amount) and no credit/debit pair."),
    "unsigned_amount": _("The amount column “%(column)s” has no sign, and the header has no direction column "
                         "(借贷标志 / 收支标志 / direction) to say which way the money went."),
    "unknown_direction": _("The column “%(column)s” looks like a debit/credit flag this importer does not know; "
                           "the file is refused rather than reading every line as money in. Rename it to "
                           "借贷标志 or direction."),
    "missing_reference": _("The bank reference is empty."),
    "bad_date": _("The date cannot be read (write 2026-11-24, 2026/11/24 or 20261124)."),
    "bad_amount": _("The amount cannot be read (write 1234.50, 1,234.50 or ¥1,234.50; 2 decimals at most)."),
    "zero_amount": _("The amount is zero or missing."),
    "both_debit_and_credit": _("The line has both a credit and a debit amount."),
    "bad_direction": _("The direction flag cannot be read (write 贷/借, 收/支, C/D, credit/debit or in/out)."),
    "missing_direction": _("The direction flag is empty: the line does not say whether the money came in or "
                           "went out."),
    "signed_with_direction": _("The amount has a minus sign and the line also has a direction flag: say which "
                               "way the money went once."),
    "direction_conflict": _("The direction flag contradicts the debit/credit column that holds the amount."),
    "bad_balance": _("The balance cannot be read."),
    "undecodable_line": _("This line is not text in the file's encoding."),
    "malformed_row": _("This line is not valid CSV (check its quotes)."),
}
_REQUIRED = ("bank_reference", "value_date", "amount")
_AMOUNT = re.compile(r"(?i)(?P<s1>[-+]?)\s*(?:¥|￥|CNY|RMB)?\s*(?P<s2>[-+]?)\s*"
                     r"(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]{1,2}))?\s*元?")
_DATE = re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})|([0-9]{4})([0-9]{2})([0-9]{2})")
_SUMMARY = re.compile(r"(?i)(本页|本期|本日|本月|本年)?(合计|总计|小计|累计)|(sub)?total\b")


@dataclass(frozen=True, slots=True)
class StatementRow:
    line: int  # physical line where the record starts; title lines and the header count
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


class StatementFileError(Exception):
    """The whole file is refused: empty, undecodable, no header, or a required column missing."""

    def __init__(self, code: str, message: str):
        super().__init__(code)
        self.code, self.message = code, message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class ParsedStatement:
    rows: list[StatementRow]
    errors: list[RowError]
    encoding: str
    columns: dict[str, str]  # field -> header text used
    skipped_summary: int
    closing_balance: Decimal | None


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
    raise StatementFileError("undecodable", _MESSAGES["undecodable"])


def parse_amount_text(text: str) -> Decimal:
    """'1,234.50', '¥1,234.50', 'CNY -500', ' 12 ' -> Decimal with 2 places; ValueError otherwise."""
    text = text.strip()
    match = _AMOUNT.fullmatch(text) if len(text) <= 40 else None
    if match is None or (match["s1"] and match["s2"]):
        raise ValueError(f"not an amount: {text!r}")
    digits = match["int"].replace(",", "") + "." + (match["frac"] or "0")
    amount = Decimal(digits).quantize(CENT, rounding=ROUND_HALF_UP)  # exact: at most 2 places
    if amount > MAX_AMOUNT:
        raise ValueError(f"amount too large: {text!r}")
    return -amount if "-" in (match["s1"] + match["s2"]) and amount else amount


def parse_date_text(text: str) -> datetime.date:
    """'2026-11-24', '2026/1/5', '2026.11.24', '20261124' -> date; ValueError otherwise."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a date: {text!r}")
    year, _sep, month, day, *compact = match.groups()
    if year is None:
        year, month, day = compact
    return datetime.date(int(year), int(month), int(day))


def iter_statement(stream: Iterable[bytes] | BinaryIO | bytes) -> Iterator[StatementRow | RowError]:
    """Yield each data row or its errors, in file order; whole-file problems raise at once."""
    return iter(StatementReader(stream))


def parse_statement(data: Iterable[bytes] | BinaryIO | bytes) -> ParsedStatement:
    """Read a whole file (for the upload preview and its tests); the importer streams instead."""
    reader, rows, errors = StatementReader(data), [], []
    for item in reader:
        (rows if isinstance(item, StatementRow) else errors).append(item)
    return ParsedStatement(rows, errors, reader.encoding, reader.columns, reader.skipped_summary,
                           reader.closing_balance)


class StatementReader:
    """One pass over a file: bytes -> physical lines -> decoded text -> CSV records -> rows.

    For streaming callers that also want what the file told us: ``encoding``, ``columns``,
    ``skipped_summary`` and ``closing_balance`` (complete once iteration has finished)."""

    def __init__(self, source: Iterable[bytes] | BinaryIO | bytes):
        lines, head, size = _split_lines(source), [], 0
        while size < CHUNK_SIZE and (raw := next(lines, None)) is not None:
            head.append(raw)
            size += len(raw)
        self.encoding = detect_encoding(b"".join(head)[:CHUNK_SIZE])  # same for bytes, files, generators
        if self.encoding == "utf-8-sig":
            head[0] = head[0][len(codecs.BOM_UTF8) :]
        # An all-ASCII start says nothing yet: the first non-ASCII line decides, so a file with
        # English headers and, from line 2,000 on, Chinese names in GBK still reads.
        ascii_start = all(raw.isascii() for raw in head)
        self._codec = "utf-8" if self.encoding == "utf-8-sig" else None if ascii_start else self.encoding
        self._lines = enumerate(chain(head, lines), start=1)
        self.skipped_summary, self.closing_balance = 0, None
        self._find_header()

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

    def _find_header(self) -> None:
        seen, best_size, best_missing = 0, 1, ""  # the near-miss header with most known columns
        for self._line, raw in self._lines:
            text = self._decode(raw)
            if text is not None and not text.strip():
                continue
            seen += 1
            delimiter = "\t" if text and text.count("\t") > text.count(",") else ","
            try:
                cells = next(csv.reader([text or ""], delimiter=delimiter), [])
            except csv.Error:  # e.g. a field over csv.field_size_limit()
                cells = []
            mapping = _map_columns(cells)
            found = mapping.keys() | ({"amount"} if "credit" in mapping else set())  # credit comes with debit
            missing = [field for field in _REQUIRED if field not in found]
            if not missing:
                _check_direction(cells, mapping)
                self.columns = {f: " + ".join(cells[i].strip() for i in idx) for f, idx in mapping.items()}
                self._delimiter, self._remarks = delimiter, mapping.pop("remark", [])
                self._index = {field: indexes[0] for field, indexes in mapping.items()}
                return
            if len(mapping) > best_size:
                best_size, best_missing = len(mapping), missing[0]
            if seen >= HEADER_SCAN_LINES:
                break
        code = "missing_column" if best_missing else "no_header" if seen else "empty"
        raise StatementFileError(code, _MESSAGES[f"missing_{best_missing}" if best_missing else code])

    def __iter__(self) -> Iterator[StatementRow | RowError]:
        undecodable: list[int] = []

        def texts() -> Iterator[str]:
            for self._line, raw in self._lines:
                if (text := self._decode(raw)) is None:
                    undecodable.append(self._line)
                yield "\n" if text is None else text

        records, end = csv.reader(texts(), delimiter=self._delimiter), self._line
        while True:
            try:
                cells = next(records)
            except StopIteration:
                return
            except csv.Error:
                cells = "malformed_row"
            line, end = end + 1, self._line  # a quoted field may span several physical lines
            if undecodable:
                undecodable.clear()
                cells = "undecodable_line"
            if isinstance(cells, str):
                yield RowError(line, cells, _MESSAGES[cells])
            else:
                yield from self._row(line, cells)

    def _row(self, line: int, cells: list[str]) -> Sequence[StatementRow | RowError]:
        width, index = len(cells), self._index

        def value(field: str) -> str:
            return cells[i].strip() if (i := index.get(field, width)) < width else ""

        first = next((cell for cell in map(str.strip, cells) if cell), None)
        if first is None:  # a blank line, or only separators
            return ()
        reference = value("bank_reference")
        if _SUMMARY.match(reference) or (not reference and _SUMMARY.match(first)):
            self.skipped_summary += 1
            return ()
        errors: list[RowError] = []
        if not reference:
            errors.append(RowError(line, "missing_reference", _MESSAGES["missing_reference"]))
        value_date = _read(parse_date_text, value("value_date"), line, "bad_date", errors)
        flag, flag_text = None, value("direction")
        if flag_text:
            flag = DIRECTION_VALUES.get(re.sub(r"\s+", "", flag_text.casefold()))
            if flag is None:
                errors.append(RowError(line, "bad_direction", _MESSAGES["bad_direction"], flag_text[:100]))
        if "amount" in index:
            amount = _read(parse_amount_text, value("amount"), line, "bad_amount", errors)
            if "direction" in index and amount is not None:
                if amount < 0:
                    errors.append(RowError(line, "signed_with_direction", _MESSAGES["signed_with_direction"],
                                           f"{flag_text} {value('amount')}"))
                if not flag_text:
                    errors.append(RowError(line, "missing_direction", _MESSAGES["missing_direction"]))
                amount = amount * flag if flag is not None and amount >= 0 else None
        else:
            credit = _read(parse_amount_text, value("credit"), line, "bad_amount", errors, ZERO)
            debit = _read(parse_amount_text, value("debit"), line, "bad_amount", errors, ZERO)
            amount = None if credit is None or debit is None else credit - debit  # -credit: 红字冲正
            if credit and debit:
                amount = None
                errors.append(RowError(line, "both_debit_and_credit", _MESSAGES["both_debit_and_credit"],
                                       f"{value('credit')} / {value('debit')}"))
            elif flag is not None and amount:
                # The pair decides; a flag must agree with it, and a red-ink reversal must not
                # come with a flag (which of the two signs would be meant is a guess).
                shown = f"{flag_text} {value('credit') or value('debit')}"
                if credit < 0 or debit < 0:
                    amount = None
                    errors.append(RowError(line, "signed_with_direction", _MESSAGES["signed_with_direction"], shown))
                elif (1 if credit else -1) != flag:
                    amount = None
                    errors.append(RowError(line, "direction_conflict", _MESSAGES["direction_conflict"], shown))
        if amount is not None and not amount:
            errors.append(RowError(line, "bad_amount", _MESSAGES["zero_amount"], value("amount")))
        balance = _read(parse_amount_text, value("balance"), line, "bad_balance", errors, None)
        if errors:
            return errors
        if "balance" in index:
            self.closing_balance = balance
        remark = " / ".join(text for i in self._remarks if i < width and (text := cells[i].strip()))
        return (StatementRow(line, reference, value_date, amount, value("counterparty_name"),
                             value("counterparty_account"), value("counterparty_bank"), remark, balance),)


_Reader = StatementReader  # the name services.imports first imported


def _map_columns(cells: list[str]) -> dict[str, list[int]]:
    """field -> column indexes: the best-ranked column, or every remark column in file order."""
    hits: dict[str, list[tuple[int, int]]] = {}
    for index, cell in enumerate(cells):
        if found := _ALIASES.get(_header_key(cell)):
            hits.setdefault(found[0], []).append((found[1], index))
    mapping = {f: [i for _r, i in h] if f == "remark" else [min(h)[1]] for f, h in hits.items()}
    if "credit" in mapping and "debit" in mapping:
        mapping.pop("amount", None)  # an explicit direction beats a column that may be unsigned
    else:
        mapping.pop("credit", None)
        mapping.pop("debit", None)
    return mapping


def _header_key(cell: str) -> str:
    """'金额(元)' -> '金额', ' Value Date ' -> 'value_date', 'D-C Flag' -> 'd_c_flag'."""
    key = re.sub(r"\s*[(（][^()（）]*[)）]$", "", cell.replace("\ufeff", "").strip())
    return re.sub(r"[\s-]+", "_", key.casefold())


def _check_direction(cells: list[str], mapping: dict[str, list[int]]) -> None:
    """Refuse a header whose single amount column may be unsigned with nothing to sign it."""
    if "amount" not in mapping or "direction" in mapping:
        return
    amount_header = cells[mapping["amount"][0]]
    if _header_key(amount_header) in UNSIGNED_AMOUNT_HEADERS:
        raise StatementFileError("unsigned_amount", _MESSAGES["unsigned_amount"] % {"column": amount_header.strip()})
    known = {i for indexes in mapping.values() for i in indexes}
    for index, cell in enumerate(cells):
        if index not in known and _DIRECTION_LIKE.search(_header_key(cell)):
            raise StatementFileError("unknown_direction", _MESSAGES["unknown_direction"] % {"column": cell.strip()})


def _read(parse, text: str, line: int, code: str, errors: list[RowError], empty=ValueError):
    if not text and empty is not ValueError:
        return empty
    try:
        return parse(text)
    except ValueError:
        errors.append(RowError(line, code, _MESSAGES[code], text[:100]))
        return None


def _split_lines(source: Iterable[bytes] | BinaryIO | bytes) -> Iterator[bytes]:
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
            yield bytes(pending[start : end + 1])
            start = end + 1
        del pending[:start]
    if pending:
        yield bytes(pending)
