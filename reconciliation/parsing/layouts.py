"""Statement layouts: which header words mean which field, and how a bank writes dates,
directions and footers. Finding the header row in a file and recognising its layout.

The STANDARD layout is the table of STATEMENTS.md, in code, so every file it describes reads
exactly as it always did. Bank layouts (the StatementLayout rows operations edit in the admin;
the built-in ones are loaded by a data migration from builtin_layouts.json) ADD to it: their
header synonyms, date formats, direction values and footer patterns extend the standard ones, and
they may name the reference column(s). A layout may not give a standard direction value the
opposite meaning (the model refuses it).

Recognition: each row near the top (and each pair of rows, for a two-row header such as
发生额/元 over 借方 | 贷方) is mapped with every layout; the layout that maps the required fields and
the most columns wins, then the one that needed more of its own words, then the lower priority
number; the standard layout wins a tie, so a bank layout never changes how a standard file reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from .cells import ascii_text, flag_key

FIELDS = ("bank_reference", "value_date", "amount", "credit", "debit", "direction", "counterparty_name",
          "counterparty_account", "counterparty_bank", "remark", "balance")
REQUIRED = ("bank_reference", "value_date", "amount")  # a credit/debit pair stands for amount
BUILTIN_FILE = Path(__file__).with_name("builtin_layouts.json")

# The order is a preference: a file with both 流水号 and 凭证号 is keyed on 流水号.
STANDARD_HEADERS = {
    "bank_reference": ("bank_reference", "reference", "serial_no", "流水号", "交易流水号", "凭证号"),
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
STANDARD_DIRECTIONS = {
    **dict.fromkeys(("贷", "贷方", "c", "cr", "credit", "收", "收入", "收款", "来账", "in"), 1),
    **dict.fromkeys(("借", "借方", "d", "dr", "debit", "支", "支出", "付", "付款", "往账", "out"), -1),
}
# Rows that are summaries or notes, not statement lines (matched on the reference cell, or on
# the first cell when the reference is empty); layouts add their own.
STANDARD_FOOTERS = (r"(本页|本期|本日|本月|本年|人民币|外币)?(合计|总计|小计|累计)", r"(sub)?total\b",
                    r"以上(数据|信息|内容)?仅供参考", r"打印(时间|日期|柜员|人|机构)", r"第\s*\d+\s*页", r"共\s*\d+\s*(页|笔)",
                    r"(制表|经办|复核|授权)(人|员)?\s*[:：]", r"查询时间\s*[:：]", r"温馨提示")
# An unknown header that looks like a direction flag: refused next to a single amount column.
DIRECTION_LIKE = re.compile(r"借贷|收支|收付|方向|direction|debit.?credit|credit.?debit"
                            r"|^(dr|d)_?/?_?(cr|c)(_|$)|^(cr|c)_?/?_?(dr|d)(_|$)")
# Group headers of a two-row header, and the words under them ("发生额/元" over "借方 | 贷方").
_SUB_HEADERS = {"借方": "debit", "支出": "debit", "转出": "debit", "支取": "debit", "付出": "debit",
                "贷方": "credit", "收入": "credit", "转入": "credit", "存入": "credit"}
_AMOUNT_GROUPS = ("发生额", "金额", "交易金额", "交易发生额", "记账金额", "amount")
_UNIT = re.compile(r"\s*(/\s*元|[(（]\s*(元|人民币|rmb|cny)\s*[)）])$", re.IGNORECASE)
_TRAILING_NOTE = re.compile(r"\s*[(（][^()（）]*[)）]$")


def header_key(cell) -> str:
    """'金额(元)' and '金额（元）' -> '金额(元)'; ' Value Date ' -> 'value_date'; full-width → ASCII."""
    text = ascii_text(str(cell or "").replace("\ufeff", ""))
    return re.sub(r"[\s-]+", "_", text.casefold())


def _key_variants(cell) -> tuple[str, ...]:
    """The header as written, then without a trailing note or unit: 借方发生额（支取） -> 借方发生额."""
    key = header_key(cell)
    out = [key]
    for pattern in (_UNIT, _TRAILING_NOTE):
        shorter = pattern.sub("", key)
        if shorter and shorter not in out:
            out.append(shorter)
    return tuple(out)


@dataclass(frozen=True)
class Layout:
    code: str
    name: str = field(repr=False)  # may be a lazy translation: never rendered at import time
    headers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # field -> extra header words
    date_formats: tuple[str, ...] = ()
    direction_values: Mapping[str, int] = field(default_factory=dict)  # flag_key -> +1 / -1
    footer_patterns: tuple[str, ...] = ()
    reference_columns: tuple[str, ...] = ()  # header words, in preference order
    reference_composite: bool = False  # join every listed reference column present, with "-"
    required_headers: tuple[str, ...] = ()  # recognised only if the header has all of these
    priority: int = 100
    pk: int | None = None

    def __post_init__(self):
        aliases: dict[str, tuple[str, int, bool]] = {}
        for name, words in STANDARD_HEADERS.items():
            for rank, word in enumerate(words):
                aliases[header_key(word)] = (name, rank, False)
        for name, words in self.headers.items():
            for rank, word in enumerate(words):
                key = header_key(word)
                standard = aliases.get(key)
                if standard is None or standard[2] or standard[0] != name:  # a word of its own, or a new meaning
                    aliases[key] = (name, 100 + rank, True)
        footers = "|".join(f"(?:{p})" for p in STANDARD_FOOTERS + tuple(self.footer_patterns))
        object.__setattr__(self, "_aliases", aliases)
        object.__setattr__(self, "directions", {**STANDARD_DIRECTIONS, **self.direction_values})
        object.__setattr__(self, "footer", re.compile(footers, re.IGNORECASE))

    @property
    def is_standard(self) -> bool:
        return self.code == STANDARD.code

    def lookup(self, cell) -> tuple[str, int, bool] | None:
        for key in _key_variants(cell):
            if found := self._aliases.get(key):
                return found
        return None


STANDARD = Layout(code="standard", name=_("Standard (STATEMENTS.md)"), priority=0)


def load_builtin(path: Path = BUILTIN_FILE) -> list[dict]:
    """The built-in layouts as plain data (the data migration and the parsing tests read it)."""
    return json.loads(path.read_text(encoding="utf-8"))


def layout_from_data(data: Mapping, pk: int | None = None) -> Layout:
    """A Layout from a StatementLayout row's values (or an entry of builtin_layouts.json)."""
    return Layout(
        code=data["code"], name=data["name"], pk=pk, priority=int(data.get("priority", 100)),
        headers={f: tuple(words) for f, words in (data.get("headers") or {}).items() if f in FIELDS},
        date_formats=tuple(data.get("date_formats") or ()),
        direction_values={flag_key(k): (1 if v == "in" else -1) for k, v in (data.get("direction_values") or {}).items()},
        footer_patterns=tuple(data.get("footer_patterns") or ()),
        reference_columns=tuple(data.get("reference_columns") or ()),
        reference_composite=bool(data.get("reference_composite")),
        required_headers=tuple(data.get("required_headers") or ()),
    )


# --- mapping one header row -----------------------------------------------------------------

@dataclass
class HeaderMapping:
    """How one layout reads one header: field -> column indexes, and what it cost."""
    layout: Layout
    columns: dict[str, list[int]]
    own_words: int  # columns recognised only through the layout's own words
    headers: list[str]  # the header text of every column (two-row headers combined)
    reference_candidates: list[int] = field(default_factory=list)  # every reference column, preferred first

    @property
    def complete(self) -> bool:
        found = self.columns.keys() | ({"amount"} if "credit" in self.columns else set())
        return all(f in found for f in REQUIRED)

    @property
    def missing(self) -> str:
        found = self.columns.keys() | ({"amount"} if "credit" in self.columns else set())
        return next((f for f in REQUIRED if f not in found), "")

    def score(self) -> tuple:
        mapped = sum(len(v) for v in self.columns.values())
        return (self.complete, mapped, len(self.layout.required_headers), self.own_words, self.layout.is_standard,
                -self.layout.priority)


def map_header(layout: Layout, cells: list[str]) -> HeaderMapping | None:
    """None when the layout does not apply (a required header of its own is absent)."""
    keys = [_key_variants(c) for c in cells]
    if layout.required_headers:
        present = {k for variants in keys for k in variants}
        if not all(header_key(word) in present for word in layout.required_headers):
            return None
    hits: dict[str, list[tuple[int, int]]] = {}
    owned = set()
    for index, cell in enumerate(cells):
        if found := layout.lookup(cell):
            name, rank, is_own = found
            hits.setdefault(name, []).append((rank, index))
            if is_own:
                owned.add(index)
    columns = {f: [i for _r, i in h] if f == "remark" else [min(h)[1]] for f, h in hits.items()}
    if "credit" in columns and "debit" in columns:
        columns.pop("amount", None)  # an explicit direction beats a column that may be unsigned
    else:
        columns.pop("credit", None)
        columns.pop("debit", None)
    own = sum(1 for indexes in columns.values() for i in indexes if i in owned)
    candidates = [i for _r, i in sorted(hits.get("bank_reference", []))]
    if layout.reference_columns:
        wanted = [header_key(word) for word in layout.reference_columns]
        chosen = list(dict.fromkeys(next(i for i, variants in enumerate(keys) if w in variants) for w in wanted
                                    if any(w in variants for variants in keys)))
        if chosen:
            candidates = chosen + [i for i in candidates if i not in chosen]
        chosen = chosen if layout.reference_composite else chosen[:1]
        if chosen and chosen != columns.get("bank_reference"):
            columns["bank_reference"] = chosen
            own += 1
    # Every reference column, preferred first: joined, they are what the importer falls back to
    # when the chosen one turns out not to be unique in the file (services.imports).
    return HeaderMapping(layout, columns, own, [_header_text(c) for c in cells], candidates)


def _header_text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


class _Combined(list):
    """A two-row header as one row of header words; ``shown`` is how staff read each column."""
    shown: list[str]


def combine_two_rows(top: list, bottom: list) -> list[str] | None:
    """A group header over sub-headers -> one header row ('发生额/元' over '借方' -> '支出金额',
    shown as '发生额/元 借方'), or None when the bottom row is not sub-headers of an amount group."""
    width = max(len(top), len(bottom))
    top = [str(c or "").strip() for c in top] + [""] * (width - len(top))
    bottom = [str(c or "").strip() if not isinstance(c, (int, float)) else "\0" for c in bottom]
    bottom += [""] * (width - len(bottom))
    if "\0" in bottom or not any(ascii_text(b) in _SUB_HEADERS for b in bottom):
        return None
    out, group = _Combined(), ""
    out.shown = []
    for t, b in zip(top, bottom):
        if t:
            group = t
        elif not b:
            group = ""  # a gap in the top row ends a merged group cell
        if b and group and ascii_text(b) in _SUB_HEADERS and _is_amount_group(group):
            out.append(("收入金额" if _SUB_HEADERS[ascii_text(b)] == "credit" else "支出金额"))
            out.shown.append(f"{group} {b}")
        else:
            out.append(b or t)
            out.shown.append(b or t)
    return out


def _is_amount_group(text: str) -> bool:
    return any(key in _AMOUNT_GROUPS for key in _key_variants(text))


def best_mapping(layouts: Iterable[Layout], cells: list) -> HeaderMapping | None:
    candidates = [m for layout in layouts if (m := map_header(layout, cells)) is not None]
    best = max(candidates, key=HeaderMapping.score, default=None)
    if best is not None and isinstance(cells, _Combined):
        best.headers = list(cells.shown)
    return best


def unsigned_amount_column(mapping: HeaderMapping) -> str | None:
    """The header of a single amount column that has no sign by name and nothing to sign it."""
    if "amount" not in mapping.columns or "direction" in mapping.columns:
        return None
    header = mapping.headers[mapping.columns["amount"][0]]
    return header if any(k in UNSIGNED_AMOUNT_HEADERS for k in _key_variants(header)) else None


def unknown_direction_column(mapping: HeaderMapping) -> str | None:
    """An unmapped header that looks like a debit/credit flag, next to a single amount column."""
    if "amount" not in mapping.columns or "direction" in mapping.columns:
        return None
    known = {i for indexes in mapping.columns.values() for i in indexes}
    for index, cell in enumerate(mapping.headers):
        if index not in known and DIRECTION_LIKE.search(header_key(cell)):
            return cell
    return None


# --- the preamble above the header ------------------------------------------------------------

_ACCOUNT_LABEL = re.compile(r"(?i)^(?:本方|查询|我方)?(?:账号|帐号|账户|帐户|账户号码|账户号|帐户号)(?![名称])"
                            r"|^account(?:_?(?:no\.?|number))?$")
_ACCOUNT_INLINE = re.compile(r"(?i)(?:^|[\s,;，；])(?:本方|查询|我方)?(?:账号|帐号|账户|帐户|账户号码|账户号|帐户号"
                             r"|account\s*(?:no\.?|number)?)\s*[:：]\s*([0-9][0-9 \-]{5,40}[0-9])")
_DATE_TOKEN = r"([0-9]{4}[-/.]?[0-9]{1,2}[-/.]?[0-9]{1,2}|[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日)"
_PERIOD = re.compile(_DATE_TOKEN + r"\s*(?:至|到|~|～|—|－|-|to)\s*" + _DATE_TOKEN, re.IGNORECASE)


@dataclass
class Preamble:
    account_number: str = ""
    period: tuple[str, str] | None = None  # as written; cells.parse_date_text reads them
    lines: int = 0


def read_preamble(preamble: Preamble, cells: list) -> None:
    """Take the account number and the period from a title row (kept from the first match)."""
    texts = [ascii_text(str(c)) if not isinstance(c, float) else str(int(c)) if c.is_integer() else ""
             for c in cells if c not in (None, "")]
    preamble.lines += 1
    if not preamble.account_number:
        for i, text in enumerate(texts):
            if match := _ACCOUNT_INLINE.search(text):
                preamble.account_number = re.sub(r"[ \-]", "", match[1])
                break
            if _ACCOUNT_LABEL.match(text.rstrip(":：").strip()) and i + 1 < len(texts):
                number = re.sub(r"[ \-]", "", texts[i + 1])
                if number.isdigit() and len(number) >= 6:
                    preamble.account_number = number
                    break
    if preamble.period is None:
        joined = " ".join(texts)
        if match := _PERIOD.search(joined.replace("年", "-").replace("月", "-").replace("日", "")):
            preamble.period = (match[1], match[2])
