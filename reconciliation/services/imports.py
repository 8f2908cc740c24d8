"""Statement import: one file of a supervision account's statement (or offline transfer
receipts), read with reconciliation.parsing and stored and matched in one transaction.

- Every row is validated; any unreadable row refuses the file and nothing from it is kept
  (the refused batch itself is kept with its errors, for the record).
- Lines already imported (same bank reference on the same account, or twice in the file with the
  same date and amount) are counted as duplicates and skipped: one query per chunk of references,
  never one per row. A reference that comes back in the same file with another date or amount is
  an error: the reference column is not unique, and skipping the line would lose money.
- The file may be CSV, .xlsx or .xls, in any layout the reader recognises (the standard table
  and the active StatementLayout rows); an account number in its preamble must be the chosen
  supervision account's. Zero-amount lines are skipped and reported, never booked.
- The file is read once, in chunks of 2,000 rows: each chunk's new lines are matched and
  booked (services.batch_matcher), their outcomes folded into the result, and the lines
  written with their outcome by COPY.
  A bad row further down stops the storing and the refusal rolls back what was booked, so
  "validate first" holds without reading the file twice or holding it in memory.
A dry run does all of it and rolls back, so the admin preview shows exactly what a confirm
would book."""
import datetime
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.audit import audit_record
from core.locks import Lock, xact_lock
from ledger.calendar import next_working_day
from merchants.models import Merchant

from ..models import StatementBatch

# The reader behind parsing.iter_statement: streaming, and it keeps what it learnt (format,
# layout, columns, closing balance) for the batch record. parse_statement would hold every row.
from ..parsing import CHUNK_SIZE, RowError, SkippedRow, StatementFileError, StatementReader
from ..parsing.cells import parse_date_text
from ..selectors import statement_layouts, statement_layouts_fingerprint
from . import line_store
from .batch_matcher import BatchMatcher
from .line_outcomes import MATCHED_OUTCOMES, UNMATCHED_OUTCOMES, LineOutcome, NewLine

LINES_PER_CHUNK = line_store.LINES_PER_CHUNK
PREVIEW_LIMIT = 500  # lines shown with their outcome in the preview
_IMPORT_LOCK = int(Lock.STATEMENT_IMPORT)  # with the merchant id: one import per supervision account at a time


@dataclass
class ImportResult:
    rows: int = 0  # data rows read (not headers, title or summary rows)
    imported: int = 0
    duplicates: int = 0
    matched: int = 0
    unmatched: int = 0
    errors: list = field(default_factory=list)  # [{"line": int | None, "reason": str}]
    batch: StatementBatch | None = None
    refused: bool = False
    dry_run: bool = False
    encoding: str = ""
    closing_balance: Decimal | None = None
    outcomes: Counter = field(default_factory=Counter)  # line_outcomes.OUTCOME_* -> lines
    preview: list = field(default_factory=list)  # the first PREVIEW_LIMIT lines with their outcome
    # What the reader recognised, for the preview (before anything is booked) and the batch.
    file_format: str = ""
    layout_name: str = ""
    columns: dict = field(default_factory=dict)  # field -> header text in the file
    samples: dict = field(default_factory=dict)  # field -> {"cell": as written, "read": as read} (first line)
    ignored_columns: list = field(default_factory=list)
    sheets: list = field(default_factory=list)  # Excel: [(sheet, header line)] read
    statement_account: str = ""
    period: tuple | None = None
    skipped_zero: int = 0
    skipped_summary: int = 0
    layouts_fingerprint: str = ""  # what the active layouts said (selectors.statement_layouts_fingerprint)
    reference_alternatives: bool = False  # the header has other reference columns to join
    composite_reference: bool = False  # read again keyed on all of them (the first was not unique)

    def as_json(self) -> dict:
        """What `import_statement --json` prints, and nothing else."""
        return {"rows": self.rows, "imported": self.imported, "duplicates": self.duplicates,
                "matched": self.matched, "unmatched": self.unmatched,
                "errors": [{"line": e["line"], "reason": str(e["reason"]),
                            **({"sheet": e["sheet"]} if e.get("sheet") else {})} for e in self.errors]}


class _Refused(Exception):
    pass


class _DryRun(Exception):
    pass


def merchant_for_account(account_number: str) -> Merchant | None:
    account_number = (account_number or "").strip()
    if not account_number:
        return None
    return Merchant.objects.filter(supervision_account_number=account_number).first()


def statement_import(*, account_number: str, stream, actor, file_name: str = "", dry_run: bool = False,
                     progress=None, layouts_fingerprint: str | None = None) -> ImportResult:
    """Import one statement file (bytes or a binary stream) into a supervision account.

    Returns the outcome; a refused file (unknown account, unreadable file or rows) comes back
    with `refused=True` and its errors, and books nothing. `progress(lines_read)` is called
    after each chunk (the command line shows it). `layouts_fingerprint`: the one the preview
    returned; if the statement layouts changed since, the import is refused (preview again)."""
    actor = as_actor(actor)
    layouts = statement_layouts()
    result = ImportResult(dry_run=dry_run, layouts_fingerprint=statement_layouts_fingerprint(layouts))
    if layouts_fingerprint is not None and layouts_fingerprint != result.layouts_fingerprint:
        return _refuse_early(result, _("The statement layouts changed since this file was previewed: upload it "
                                       "again to see how it is read now."))
    merchant = merchant_for_account(account_number)
    if merchant is None:
        return _refuse_early(result, _("No merchant has the supervision account number “%(number)s”.")
                             % {"number": (account_number or "").strip()})
    if merchant.status not in (Merchant.Status.ACTIVE, Merchant.Status.FROZEN):
        return _refuse_early(result, _("The merchant %(code)s is not active (%(status)s): nothing can be booked.")
                             % {"code": merchant.code, "status": merchant.get_status_display()})
    digest = hashlib.sha256()
    with transaction.atomic():
        xact_lock(_IMPORT_LOCK, merchant.pk)
        batch = StatementBatch.objects.create(
            merchant=merchant, account_number=merchant.supervision_account_number, file_name=file_name[:255],
            uploaded_by=actor.user, actor_label=actor.label[:150],
        )
        result.batch = batch
        composite = False
        while True:
            try:
                with transaction.atomic():
                    # Lines are matched, booked and stored chunk by chunk as they are read; the first
                    # bad row stops the storing, and the refusal rolls back everything booked before.
                    matcher = BatchMatcher(batch, actor=actor)
                    _load(batch, _hashed(stream, digest), result, progress, matcher, layouts, composite)
                    batch.sha256 = digest.hexdigest()
                    if result.errors:
                        raise _Refused()
                    batch.validate()
                    _count_matches(result)
                    batch.post()
                    _finish(batch, result)
                    audit_record(actor=actor, obj=batch, action="import", from_state=StatementBatch.Status.UPLOADED,
                                 to_state=batch.status,
                                 data=result.as_json() | {"file": file_name, "sha256": batch.sha256})
                    if dry_run:
                        raise _DryRun()
            except _Refused:
                if not composite and _can_read_again_composite(result, stream):
                    # The reference column is not unique in this file but the header has others:
                    # a composite of them is preferred to a refusal (nothing was kept: read again).
                    composite, digest = True, hashlib.sha256()
                    result = ImportResult(dry_run=dry_run, batch=batch, composite_reference=True,
                                          layouts_fingerprint=result.layouts_fingerprint)
                    continue
                _refuse(batch, result, actor, file_name)
            except _DryRun:
                pass
            break
        if dry_run:
            transaction.set_rollback(True)
            result.batch = None
    return result


def _refuse_early(result: ImportResult, message) -> ImportResult:
    result.refused = True
    result.errors = [{"line": None, "reason": message}]
    return result


def _refuse(batch: StatementBatch, result: ImportResult, actor, file_name: str):
    result.refused = True
    result.imported = result.matched = result.unmatched = result.duplicates = 0
    result.outcomes.clear()
    result.preview = [p for p in result.preview if p["outcome"] == "error"]
    batch.refuse()
    batch.errors = [{"line": e["line"], "reason": str(e["reason"]), "value": e.get("value", ""),
                     **({"sheet": e["sheet"]} if e.get("sheet") else {})} for e in result.errors]
    batch.rows, batch.progress = result.rows, result.rows
    batch.finished_at = timezone.now()
    batch.save()
    audit_record(actor=actor, obj=batch, action="import_refused", from_state=StatementBatch.Status.UPLOADED,
                 to_state=batch.status, data={"file": file_name, "errors": len(result.errors),
                                              "first_errors": batch.errors[:20]})


def _finish(batch: StatementBatch, result: ImportResult):
    batch.rows, batch.progress = result.rows, result.rows
    batch.imported, batch.duplicates = result.imported, result.duplicates
    batch.matched, batch.unmatched = result.matched, result.unmatched
    batch.closing_balance = result.closing_balance
    batch.finished_at = timezone.now()
    batch.save()


def _hashed(stream, digest):
    if isinstance(stream, (bytes, bytearray, memoryview)):
        digest.update(stream)
        yield bytes(stream)
        return
    for chunk in iter(partial(stream.read, CHUNK_SIZE), b""):
        digest.update(chunk)
        yield chunk


def _can_read_again_composite(result: ImportResult, stream) -> bool:
    if not result.reference_alternatives or not result.errors:
        return False
    if any(error.get("code") != "reference_not_unique" for error in result.errors):
        return False
    if isinstance(stream, (bytes, bytearray, memoryview)):
        return True
    if getattr(stream, "seekable", lambda: False)():
        stream.seek(0)
        return True
    return False


def _load(batch: StatementBatch, chunks, result: ImportResult, progress, matcher, layouts, composite: bool = False):
    """Read every row; store new lines chunk by chunk while the file is clean so far (a later
    bad row rolls them back with the rest). Memory stays flat: one chunk of rows at a time,
    plus the file's references (for duplicates inside the file)."""
    try:
        reader = StatementReader(chunks, layouts, composite_reference=composite)
    except StatementFileError as err:
        result.errors.append({"line": None, "reason": err.message})
        _drain(chunks)
        return
    _describe(batch, result, reader)
    if reader.account_number and not _same_account(reader.account_number, batch.account_number):
        result.errors.append({"line": None, "reason": _(
            "The file is the statement of account %(file)s, not of the supervision account %(chosen)s: choose "
            "the right account or file.") % {"file": reader.account_number, "chosen": batch.account_number}})
        _drain(chunks)
        return
    seen: dict[str, tuple] = {}
    pending: list = []
    business_dates: dict[datetime.date, datetime.date] = {}
    first = last = None
    for item in reader:
        if isinstance(item, RowError):
            result.errors.append({"line": item.line, "reason": item.reason, "value": item.value, "sheet": item.sheet})
            _preview(result, {"line": item.line, "outcome": "error", "detail": str(item.reason),
                              "value": item.value, "sheet": item.sheet})
            continue
        if isinstance(item, SkippedRow):
            result.skipped_zero += 1
            _preview(result, {"line": item.line, "reference": item.value, "outcome": "skipped",
                              "detail": str(item.reason), "sheet": item.sheet})
            continue
        result.rows += 1
        if len(item.bank_reference) > 64:
            result.errors.append({"line": item.line, "reason": _("The bank reference is longer than 64 characters."),
                                  "value": item.bank_reference[:100]})
            continue
        first = item.value_date if first is None or item.value_date < first else first
        last = item.value_date if last is None or item.value_date > last else last
        if result.errors:
            continue  # the file will be refused: keep validating, stop storing
        pending.append(item)
        if len(pending) >= LINES_PER_CHUNK:
            _store(batch, pending, seen, business_dates, result, matcher)
            pending = []
            if progress:
                progress(result.rows)
    if not result.errors:
        _store(batch, pending, seen, business_dates, result, matcher)
    if progress:
        progress(result.rows)
    batch.encoding, batch.columns, batch.skipped_summary = reader.encoding, reader.columns, reader.skipped_summary
    batch.skipped_zero = result.skipped_zero
    result.encoding, result.closing_balance = reader.encoding, reader.closing_balance
    result.samples, result.skipped_summary = reader.samples, reader.skipped_summary
    result.sheets = [(sheet.name, sheet.header_line) for sheet in reader.sheets]
    batch.first_value_date, batch.last_value_date = first, last
    if last is not None:
        batch.business_date = _business_date(last, business_dates)
    if not result.rows and not result.errors:
        result.errors.append({"line": None, "reason": _("The file has a header but no statement lines.")})


def _describe(batch: StatementBatch, result: ImportResult, reader: StatementReader):
    """What the reader recognised, on the batch and the result (a refused file shows it too)."""
    result.file_format, result.layout_name = reader.file_format, str(reader.layout.name)
    result.columns, result.ignored_columns = reader.columns, reader.ignored_columns
    result.statement_account, result.period = reader.account_number, reader.period
    result.reference_alternatives = reader.reference_alternatives
    batch.file_format, batch.layout_id = reader.file_format, reader.layout.pk
    batch.statement_account, batch.columns = reader.account_number[:40], reader.columns
    if reader.period:
        try:
            batch.period_start, batch.period_end = (parse_date_text(day) for day in reader.period)
        except ValueError:
            pass  # shown as written in the preview; the lines' own dates are what counts


def _same_account(in_file: str, chosen: str) -> bool:
    """The digits must agree (banks print 6228 4800 0000 0001 or 6228-4800-…)."""
    return "".join(ch for ch in in_file if ch.isdigit()) == "".join(ch for ch in chosen if ch.isdigit())


def _drain(chunks):
    """Read the rest of a refused file, so the batch's SHA-256 is the whole file's."""
    for _chunk in chunks:
        pass


def _business_date(value_date: datetime.date, cache: dict) -> datetime.date:
    """Money that arrives on a weekend or holiday belongs to the next working day's books."""
    if value_date not in cache:
        cache[value_date] = next_working_day(value_date, include_today=True)
    return cache[value_date]


def _store(batch: StatementBatch, rows: list, seen: set, business_dates: dict, result: ImportResult, matcher):
    """Skip the duplicates (one query per chunk), match and book the new lines, store them."""
    if not rows:
        return
    references = {row.bank_reference for row in rows}
    existing = line_store.already_imported(batch, references)
    new = []
    for row in rows:
        earlier = seen.get(row.bank_reference)
        if earlier is not None and earlier[1] != (row.value_date, row.amount):
            result.errors.append({"line": row.line, "value": row.bank_reference, "code": "reference_not_unique",
                                  "reason": _(
                "The bank reference comes back with another date or amount (first on line %(first)s): this "
                "column is not unique in the file. Use a statement layout with a composite reference.")
                % {"first": earlier[0]}})
            continue
        if row.bank_reference in existing or earlier is not None:
            result.duplicates += 1
            _preview(result, _row_preview(row, "duplicate", gettext("Already imported: skipped.")))
            continue
        seen[row.bank_reference] = (row.line, (row.value_date, row.amount))
        new.append(NewLine(
            row.line, row.bank_reference, row.value_date, _business_date(row.value_date, business_dates),
            row.amount, row.counterparty_name[:200], row.counterparty_account[:64], row.counterparty_bank[:200],
            row.remark, row.balance))
    if not new:
        return
    _fold(result, matcher.match(new))
    line_store.insert_lines(batch, new)
    result.imported += len(new)


def _row_preview(row, outcome: str, detail: str) -> dict:
    return {"line": row.line, "reference": row.bank_reference, "value_date": row.value_date, "amount": row.amount,
            "counterparty": row.counterparty_name, "remark": row.remark, "outcome": outcome, "detail": detail}


def _preview(result: ImportResult, item: dict):
    if len(result.preview) < PREVIEW_LIMIT:
        result.preview.append(item)


def _fold(result: ImportResult, outcomes: list[LineOutcome]):
    """The matcher's decisions for a chunk, counted and previewed."""
    for o in outcomes:
        result.outcomes[o.outcome] += 1
        line = o.line
        _preview(result, {"line": line.line_no, "reference": line.bank_reference, "value_date": line.value_date,
                          "amount": line.amount, "counterparty": line.counterparty_name, "remark": line.remark,
                          "outcome": o.outcome, "detail": o.detail})


def _count_matches(result: ImportResult):
    result.matched = sum(result.outcomes[o] for o in MATCHED_OUTCOMES)
    result.unmatched = sum(result.outcomes[o] for o in UNMATCHED_OUTCOMES)
    result.preview.sort(key=lambda p: p["line"] or 0)
