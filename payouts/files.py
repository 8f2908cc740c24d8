"""The files a payout batch is issued as, and the bank's result file read back.

- CSV 代发/批量付款 (UTF-8 with BOM, comma separated): a summary header row and its values
  (batch reference, value date, count, control sum, debtor account and name, currency), then a
  column header row and one row per payment (end-to-end id, payee account number, name, bank,
  amount, purpose). README.md ("Payout batches") shows an example.
- ISO 20022 pain.001.001.03 (CustomerCreditTransferInitiation), built with lxml: one payment
  information block whose debtor is the merchant's supervision account, one credit transfer per
  line with its end-to-end id, CNY amounts; validated against the schema in the tests.
- The bank's answer: the result file (CSV, header `end_to_end_id,status,reason,bank_reference`;
  status paid or returned, a reason required when returned) or an ISO 20022 pain.002 status
  report (payouts.status_report): parsed into ResultRow or refused with every error found
  (ResultFileRefused)."""
import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from core.errors import ValidationFailed

from .status_report import looks_like_xml, parse_status_report

CSV_SUMMARY = ["批次号", "付款日期", "总笔数", "总金额", "付款账号", "付款户名", "币种"]
CSV_COLUMNS = ["明细流水号", "收款账号", "收款户名", "收款银行", "金额", "用途"]
PAIN_NS = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
RESULT_COLUMNS = ["end_to_end_id", "status", "reason", "bank_reference"]
RESULT_STATUSES = ("paid", "returned")
MAX_RESULT_BYTES = 5 * 1024 * 1024


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def batch_csv(batch, lines) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_SUMMARY)
    writer.writerow([batch.reference, batch.value_date.isoformat(), batch.count, _money(batch.control_sum),
                     batch.merchant.supervision_account_number or "", batch.merchant.legal_name, "CNY"])
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        writer.writerow([line.end_to_end_id, line.payee_account_number, line.payee_name, line.payee_bank,
                         _money(line.amount), line.purpose])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _sub(parent, tag: str, text=None, **attrs):
    element = etree.SubElement(parent, f"{{{PAIN_NS}}}{tag}", **attrs)
    if text is not None:
        element.text = str(text)
    return element


def _party(parent, tag: str, name: str):
    _sub(_sub(parent, tag), "Nm", name[:140])


def _account(parent, tag: str, number: str):
    _sub(_sub(_sub(_sub(parent, tag), "Id"), "Othr"), "Id", number[:34])


def batch_pain001(batch, lines) -> bytes:
    """pain.001.001.03: group header (message id = batch reference, count, control sum), one
    payment information block (debtor = the supervision account), one transfer per line."""
    root = etree.Element(f"{{{PAIN_NS}}}Document", nsmap={None: PAIN_NS})
    initiation = _sub(root, "CstmrCdtTrfInitn")
    header = _sub(initiation, "GrpHdr")
    _sub(header, "MsgId", batch.reference)
    _sub(header, "CreDtTm", timezone.localtime(batch.released_at or timezone.now()).strftime("%Y-%m-%dT%H:%M:%S"))
    _sub(header, "NbOfTxs", batch.count)
    _sub(header, "CtrlSum", _money(batch.control_sum))
    _party(header, "InitgPty", batch.merchant.legal_name)
    info = _sub(initiation, "PmtInf")
    _sub(info, "PmtInfId", batch.reference)
    _sub(info, "PmtMtd", "TRF")
    _sub(info, "NbOfTxs", batch.count)
    _sub(info, "CtrlSum", _money(batch.control_sum))
    _sub(info, "ReqdExctnDt", batch.value_date.isoformat())
    _party(info, "Dbtr", batch.merchant.legal_name)
    _account(info, "DbtrAcct", batch.merchant.supervision_account_number or "")
    _sub(_sub(_sub(info, "DbtrAgt"), "FinInstnId"), "Nm", settings.JIANGUAN["SUPERVISION_BANK_NAME"][:140])
    for line in lines:
        transfer = _sub(info, "CdtTrfTxInf")
        _sub(_sub(transfer, "PmtId"), "EndToEndId", line.end_to_end_id)
        _sub(_sub(transfer, "Amt"), "InstdAmt", _money(line.amount), Ccy="CNY")
        _sub(_sub(_sub(transfer, "CdtrAgt"), "FinInstnId"), "Nm", line.payee_bank[:140])
        _party(transfer, "Cdtr", line.payee_name)
        _account(transfer, "CdtrAcct", line.payee_account_number)
        _sub(_sub(transfer, "RmtInf"), "Ustrd", line.purpose[:140])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@dataclass(frozen=True)
class ResultRow:
    row: int
    end_to_end_id: str
    status: str  # "paid" | "returned"
    reason: str
    bank_reference: str


class ResultFileRefused(ValidationFailed):
    """The whole file is refused; `details["errors"]` lists every problem found, by row."""


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ResultFileRefused(_("The result file is neither UTF-8 nor GB18030 text."))


def parse_result_file(data: bytes, *, batch_reference: str = "", pending=()) -> list[ResultRow]:
    """Read the bank's answer — the CSV result file, or a pain.002 status report — and refuse it
    (every error listed) unless every row is good. `batch_reference` is the batch the answer must
    be for (a status report names it); `pending`: the end-to-end ids still unanswered, which a
    report rejecting the whole file returns."""
    if not data or not data.strip():
        raise ResultFileRefused(_("The result file is empty."))
    if len(data) > MAX_RESULT_BYTES:
        raise ResultFileRefused(_("The result file is larger than 5 MB."))
    if looks_like_xml(data):
        return _status_report_rows(data, batch_reference, pending)
    rows = list(csv.reader(io.StringIO(_decode(data))))
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    if header != RESULT_COLUMNS:
        raise ResultFileRefused(_("The first row must be the header %(expected)s; it is %(found)s.")
                                % {"expected": ",".join(RESULT_COLUMNS), "found": ",".join(rows[0])[:200]})
    errors, answers = [], []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(RESULT_COLUMNS):
            errors.append(_("Row %(row)s: %(n)s columns, 4 expected.") % {"row": number, "n": len(cells)})
            continue
        e2e, status, reason, reference = (cell.strip() for cell in cells)
        answers.append((number, e2e, status.lower(), reason, reference))
    return _checked(answers, errors)


def _status_report_rows(data: bytes, batch_reference: str, pending) -> list[ResultRow]:
    report = parse_status_report(data)
    errors = list(report.errors)
    if not errors and batch_reference and report.original_message_id != batch_reference:
        errors.append(_("The status report answers message %(found)s, not batch %(ref)s.")
                      % {"found": report.original_message_id[:64] or "—", "ref": batch_reference})
    if report.rejected_whole and not errors:
        reason = _("The bank rejected the whole file: %(reason)s") % {"reason": report.rejected_whole}
        return _checked([(n, e2e, "returned", reason[:200], "") for n, e2e in enumerate(pending, start=1)], [])
    answers = [(t.row, t.end_to_end_id, t.status, t.reason[:200], t.bank_reference) for t in report.transactions]
    if errors:
        raise ResultFileRefused(_("The result file is refused: %(errors)s") % {"errors": " ".join(errors[:20])},
                                details={"errors": errors})
    if not answers and report.pending:
        raise ResultFileRefused(_("The status report has no final answer yet (%(n)s payments still in "
                                  "progress): nothing to book.") % {"n": report.pending})
    return _checked(answers, errors)


def _checked(answers, errors) -> list[ResultRow]:
    """The rows (number, end-to-end id, status, reason, bank reference), or the file refused."""
    parsed, seen = [], set()
    for number, e2e, status, reason, reference in answers:
        if not e2e:
            errors.append(_("Row %(row)s: the end-to-end id is missing.") % {"row": number})
        elif e2e in seen:
            errors.append(_("Row %(row)s: %(id)s is answered twice in the file.") % {"row": number, "id": e2e})
        if status not in RESULT_STATUSES:
            errors.append(_("Row %(row)s: the status must be paid or returned, not “%(status)s”.")
                          % {"row": number, "status": status[:20]})
        elif status == "returned" and not reason:
            errors.append(_("Row %(row)s: a returned payment needs its reason.") % {"row": number})
        if len(reason) > 200 or len(reference) > 64:
            errors.append(_("Row %(row)s: the reason (200) or bank reference (64) is too long.") % {"row": number})
        seen.add(e2e)
        parsed.append(ResultRow(number, e2e, status, reason, reference))
    if not parsed and not errors:
        errors.append(_("The result file has no rows under its header."))
    if errors:
        raise ResultFileRefused(_("The result file is refused: %(errors)s") % {"errors": " ".join(errors[:20])},
                                details={"errors": errors})
    return parsed
