"""Read bank statement CSV files into typed rows, one row at a time.

Files come straight out of banks' systems (see STATEMENTS.md): UTF-8 with or without a BOM,
or GBK/GB18030; English or Chinese headers in any order, possibly below a few title lines; one
signed amount column or a credit/debit pair; summary rows at the end. This module only reads:
a row it cannot read exactly becomes a RowError with its physical line number (never a guess,
never a rounding), and a file it cannot read at all raises StatementFileError before any row is
produced. Deciding what to book is the reconciliation services' job.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain
from typing import BinaryIO

from django.utils.translation import gettext_lazy as _

CHUNK_SIZE = 64 * 1024
HEADER_SCAN_LINES = 20  # non-blank lines searched for the header, below the banks' title lines
MAX_AMOUNT = Decimal("999999999999.99")
CENT = Decimal("0.01")

# The order is a preference: a file with both 流水号 and 凭证号 is keyed on 流水号.
HEADERS = {
    "bank_reference": ("bank_reference", "reference", "serial_no", "流水号", "交易流水号", "凭证号"),
    "value_date": ("value_date", "date", "交易日期", "记账日期"),
    "amount": ("amount", "交易金额", "金额"),
    "credit": ("credit", "贷方发生额", "收入金额"),
    "debit": ("debit", "借方发生额", "支出金额"),
    "counterparty_name": ("counterparty_name", "payer_name", "对方户名", "对方名称"),
    "counterparty_account": ("counterparty_account", "对方账号"),
    "counterparty_bank": ("counterparty_bank", "对方开户行", "对方行名"),
    "remark": ("remark", "memo", "摘要", "附言", "用途", "备注"),
    "balance": ("balance", "余额", "账户余额"),
}
_ALIASES = {alias: (field, rank) for field, names in HEADERS.items() for rank, alias in enumerate(names)}
_MISSING = {
    "bank_reference": _("The header has no bank reference column (流水号 / bank_reference)."),
    "value_date": _("The header has no date column (交易日期 / value_date)."),
    "amount": _("The header has no amount column (金额 / amount) and no credit/debit pair."),
}
_REASONS = {
    "missing_reference": _("The bank reference is empty."),
    "bad_date": _("The date cannot be read (write 2026-11-24, 2026/11/24 or 20261124)."),
    "bad_amount": _("The amount cannot be read (write 1234.50, 1,234.50 or ¥1,234.50, at most 2 decimals)."),
    "zero_amount": _("The amount is zero or missing."),
    "both_debit_and_credit": _("The line has both a credit and a debit amount."),
    "bad_balance": _("The balance cannot be read."),
    "undecodable_line": _("This line is not text in the file's encoding."),
    "malformed_row": _("This line is not valid CSV (check its quotes)."),
}
_AMOUNT = re.compile(
    r"(?P<s1>[-+]?)\s*(?:¥|￥|CNY|RMB)?\s*(?P<s2>[-+]?)\s*"
    r"(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]{1,2}))?\s*元?",
    re.IGNORECASE,
)
_DATE = re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})|([0-9]{4})([0-9]{2})([0-9]{2})")
_SUMMARY = re.compile(r"(本页|本期|本日|本月|本年)?(合计|总计|小计|累计)|(sub)?total\b", re.IGNORECASE)


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class RowError:
    line: int
    code: str
    reason: str  # a lazy translation: str() it where it is shown, in the reader's language
    value: str = ""  # the offending cell, so staff can see what the bank wrote


class StatementFileError(Exception):
    """The whole file is refused: empty, undecodable, no header, or a required column missing."""

    def __init__(self, code: str, message: str):
        super().__init__(code)
        self.code = code
        self.message = message

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
    raise StatementFileError("undecodable", _("The file is neither UTF-8 nor GBK/GB18030 text."))


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
    return iter(_Reader(stream))


def parse_statement(data: Iterable[bytes] | BinaryIO | bytes) -> ParsedStatement:
    reader = _Reader(data)
    rows: list[StatementRow] = []
    errors: list[RowError] = []
    for item in reader:
        (rows if isinstance(item, StatementRow) else errors).append(item)
    return ParsedStatement(
        rows, errors, reader.encoding, reader.columns, reader.skipped_summary, reader.closing_balance
    )


class _Reader:
    """One pass over a file: bytes -> physical lines -> decoded text -> csv records -> rows."""

    def __init__(self, source: Iterable[bytes] | BinaryIO | bytes):
        chunks = _chunks(source)
        head = b""
        for chunk in chunks:
            head += chunk
            if len(head) >= CHUNK_SIZE:
                break
        self.encoding = detect_encoding(head[:CHUNK_SIZE])  # the same for bytes, files, generators
        if self.encoding == "utf-8-sig":
            head = head[len(codecs.BOM_UTF8) :]
        # An all-ASCII start says nothing: the first non-ASCII line decides (English headers,
        # then Chinese names from line 2,000 on, in GBK).
        self._codec = "utf-8" if self.encoding == "utf-8-sig" else None if head.isascii() else self.encoding
        self._lines = enumerate(_split_lines(chain([head], chunks)), start=1)
        self._undecodable = False
        self._line = 0
        self.skipped_summary = 0
        self.closing_balance: Decimal | None = None
        self._find_header()

    def _decode(self, raw: bytes) -> str | None:
        if raw.isascii():
            return raw.decode("ascii")
        for codec in (self._codec,) if self._codec else ("utf-8", "gb18030"):
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                continue
            self._codec = codec
            self.encoding = "utf-8-sig" if self.encoding == "utf-8-sig" else codec
            return text
        return None

    def _find_header(self) -> None:
        seen, best_missing, best_size = 0, None, 1
        for self._line, raw in self._lines:
            text = self._decode(raw)
            if text is None or not text.strip():
                continue
            for delimiter in ",\t":
                try:
                    cells = next(csv.reader([text], delimiter=delimiter), [])
                except csv.Error:
                    continue
                mapping = _map_columns(cells)
                missing = [f for f in _MISSING if f not in mapping and not (f == "amount" and "credit" in mapping)]
                if not missing:
                    self.columns = {f: " + ".join(cells[i].strip() for i in idx) for f, idx in mapping.items()}
                    self._delimiter, self._remarks = delimiter, mapping.pop("remark", [])
                    self._index = {field: indexes[0] for field, indexes in mapping.items()}
                    return
                if len(mapping) > best_size:
                    best_missing, best_size = missing[0], len(mapping)
            seen += 1
            if seen >= HEADER_SCAN_LINES:
                break
        if best_missing:
            raise StatementFileError("missing_column", _MISSING[best_missing])
        if seen == 0:
            raise StatementFileError("empty", _("The file is empty."))
        raise StatementFileError("no_header", _("No statement header (流水号, 交易日期, 金额 ...) was found."))

    def _records(self) -> Iterator[tuple[int, list[str] | str]]:
        """(first physical line, cells) for each CSV record, or (line, error code)."""

        def texts() -> Iterator[str]:
            for self._line, raw in self._lines:
                text = self._decode(raw)
                if text is None:
                    undecodable.append(self._line)
                yield "\n" if text is None else text

        undecodable: list[int] = []
        records = csv.reader(texts(), delimiter=self._delimiter)
        end = self._line
        while True:
            try:
                cells = next(records)
            except StopIteration:
                return
            except csv.Error:
                cells = "malformed_row"
            start, end = end + 1, self._line
            if undecodable:
                undecodable.clear()
                cells = "undecodable_line"
            yield start, cells

    def __iter__(self) -> Iterator[StatementRow | RowError]:
        for line, cells in self._records():
            if isinstance(cells, str):
                yield RowError(line, cells, _REASONS[cells])
            else:
                yield from self._row(line, cells)

    def _row(self, line: int, cells: list[str]) -> Iterator[StatementRow | RowError]:
        width, index = len(cells), self._index

        def value(field: str) -> str:
            return _clean(cells[i]) if (i := index.get(field, width)) < width else ""

        first = next((cell for cell in map(str.strip, cells) if cell), None)
        if first is None:  # a blank line, or only separators
            return
        reference = value("bank_reference")
        if _SUMMARY.match(reference) or (not reference and _SUMMARY.match(first)):
            self.skipped_summary += 1
            return
        errors: list[RowError] = []
        if not reference:
            errors.append(RowError(line, "missing_reference", _REASONS["missing_reference"]))
        value_date = _read(parse_date_text, value("value_date"), line, "bad_date", errors)
        if "amount" in index:
            amount = _read(parse_amount_text, value("amount"), line, "bad_amount", errors)
        else:
            credit = _read(_amount_or_zero, value("credit"), line, "bad_amount", errors)
            debit = _read(_amount_or_zero, value("debit"), line, "bad_amount", errors)
            amount = None if credit is None or debit is None else credit - debit  # -credit: 红字冲正
            if credit and debit:
                amount = None
                errors.append(RowError(line, "both_debit_and_credit", _REASONS["both_debit_and_credit"],
                                       f"{value('credit')} / {value('debit')}"))
        if amount is not None and not amount:
            errors.append(RowError(line, "bad_amount", _REASONS["zero_amount"], value("amount")))
        balance = _read(_amount_or_none, value("balance"), line, "bad_balance", errors)
        if errors:
            yield from errors
            return
        if "balance" in index:
            self.closing_balance = balance
        remark = " / ".join(text for i in self._remarks if i < width and (text := _clean(cells[i])))
        yield StatementRow(line, reference, value_date, amount, value("counterparty_name"),
                           value("counterparty_account"), value("counterparty_bank"), remark, balance)


def _map_columns(cells: list[str]) -> dict[str, list[int]]:
    """field -> column indexes: the best-ranked column, or every remark column in file order."""
    hits: dict[str, list[tuple[int, int]]] = {}
    for index, cell in enumerate(cells):
        key = re.sub(r"\s*[(（][^()（）]*[)）]$", "", cell.replace("\ufeff", "").strip())  # 金额(元)
        if found := _ALIASES.get(re.sub(r"[\s-]+", "_", key.casefold())):
            hits.setdefault(found[0], []).append((found[1], index))
    mapping = {f: [i for _r, i in h] if f == "remark" else [min(h)[1]] for f, h in hits.items()}
    if "credit" in mapping and "debit" in mapping:
        mapping.pop("amount", None)  # an explicit direction beats a column that may be unsigned
    else:
        mapping.pop("credit", None)
        mapping.pop("debit", None)
    return mapping


def _clean(cell: str) -> str:
    cell = cell.strip()
    if cell.startswith('="') and cell.endswith('"') and len(cell) > 2:  # Excel's keep-as-text trick
        cell = cell[2:-1].strip()
    return cell


def _amount_or_zero(text: str) -> Decimal:
    return parse_amount_text(text) if text else Decimal("0.00")


def _amount_or_none(text: str) -> Decimal | None:
    return parse_amount_text(text) if text else None


def _read(parse, text: str, line: int, code: str, errors: list[RowError]):
    try:
        return parse(text)
    except ValueError:
        errors.append(RowError(line, code, _REASONS[code], text[:100]))
        return None


def _chunks(source: Iterable[bytes] | BinaryIO | bytes) -> Iterator[bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = bytes(source)
        yield from (source[i : i + CHUNK_SIZE] for i in range(0, len(source), CHUNK_SIZE))
    elif hasattr(source, "read"):
        while chunk := source.read(CHUNK_SIZE):
            yield chunk
    else:
        yield from source


def _split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    # Splitting bytes on b"\n" is safe before decoding: no GBK/GB18030 or UTF-8 multibyte
    # sequence contains 0x0A.
    pending = bytearray()
    for chunk in chunks:
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError("statement data must be bytes, not %s" % type(chunk).__name__)
        pending += chunk
        start = 0
        while (end := pending.find(b"\n", start)) != -1:
            yield bytes(pending[start : end + 1])
            start = end + 1
        del pending[:start]
    if pending:
        yield bytes(pending)
