"""The bank's answer to a pain.001 file as ISO 20022 pain.002 (CustomerPaymentStatusReport,
pain.002.001.03 and later versions: the elements read here are the same).

Per transaction (TxInfAndSts): OrgnlEndToEndId names our payout line; TxSts says what happened —
ACSC / ACCC (settled on the debtor's / the creditor's account) are "paid", RJCT is "returned"
with its reason (StsRsnInf/Rsn/Cd and AddtlInf); ACCP, ACSP, ACTC, ACWC and PDNG are not final
and are left pending for a later report. AcctSvcrRef (else ClrSysRef) is the bank's reference.
OrgnlGrpInfAndSts/OrgnlMsgId must be the batch's reference (the pain.001's MsgId). A group
status of RJCT with no transaction detail rejects every payment of the batch (the bank paid
nothing: each one not answered yet is returned with the group's reason).

The document is parsed without network access, DTDs or entity expansion (lxml: no_network,
resolve_entities=False, load_dtd=False): a hostile file can't read files or make requests."""
from dataclasses import dataclass

from django.utils.translation import gettext as _
from lxml import etree

PAID, RETURNED = ("ACSC", "ACCC"), ("RJCT",)
NOT_FINAL = ("ACCP", "ACSP", "ACTC", "ACWC", "PDNG", "RCVD", "PART")


@dataclass(frozen=True)
class ReportedTransaction:
    row: int  # its position in the report, from 1
    end_to_end_id: str
    status: str  # "paid" | "returned"
    reason: str
    bank_reference: str


@dataclass(frozen=True)
class StatusReport:
    original_message_id: str
    group_status: str
    transactions: list[ReportedTransaction]
    pending: int  # transactions with a status that is not final yet
    errors: list[str]
    rejected_whole: str = ""  # the reason, when the bank rejected the whole file (group RJCT, no detail)


def looks_like_xml(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _child(element, name):
    return next((c for c in element if _local(c) == name), None) if element is not None else None


def _path_text(element, *names) -> str:
    for name in names:
        element = _child(element, name)
        if element is None:
            return ""
    return (element.text or "").strip()


def _reason(tx) -> str:
    parts = []
    for info in (c for c in tx if _local(c) == "StsRsnInf"):
        code = _path_text(info, "Rsn", "Cd") or _path_text(info, "Rsn", "Prtry")
        extra = " ".join((c.text or "").strip() for c in info if _local(c) == "AddtlInf")
        parts.append(" ".join(p for p in (code, extra) if p))
    return "; ".join(p for p in parts if p)


def parse_status_report(data: bytes) -> StatusReport:
    """The report's transactions; `errors` lists what makes the report unusable (row by row)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as err:
        return StatusReport("", "", [], 0, [_("The status report is not well-formed XML: %(error)s")
                                            % {"error": str(err)[:200]}])
    report = _child(root, "CstmrPmtStsRpt")
    if _local(root) != "Document" or report is None:
        return StatusReport("", "", [], 0, [_("The XML file is not an ISO 20022 payment status report (pain.002).")])
    group = _child(report, "OrgnlGrpInfAndSts")
    original = _path_text(group, "OrgnlMsgId")
    group_status = _path_text(group, "GrpSts")
    errors, transactions, pending = [], [], 0
    details = [tx for block in report if _local(block) == "OrgnlPmtInfAndSts"
               for tx in block if _local(tx) == "TxInfAndSts"]
    for number, tx in enumerate(details, start=1):
        e2e, status = _path_text(tx, "OrgnlEndToEndId"), _path_text(tx, "TxSts").upper()
        reference = _path_text(tx, "AcctSvcrRef") or _path_text(tx, "ClrSysRef")
        if status in NOT_FINAL:
            pending += 1
            continue
        if status in PAID:
            transactions.append(ReportedTransaction(number, e2e, "paid", "", reference))
        elif status in RETURNED:
            transactions.append(ReportedTransaction(number, e2e, "returned", _reason(tx) or status, reference))
        else:
            errors.append(_("Transaction %(row)s: the status “%(status)s” is not an ISO 20022 transaction status.")
                          % {"row": number, "status": status[:10]})
    rejected_whole = (_reason(group) or group_status) if not details and group_status in RETURNED else ""
    return StatusReport(original, group_status, transactions, pending, errors, rejected_whole)
