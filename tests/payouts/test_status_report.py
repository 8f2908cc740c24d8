"""The pain.001 round trip: the bank answers our pain.001 with a pain.002 status report, which
books like the CSV result file — settled transactions paid, rejected ones returned with their
reason, not-yet-final ones left pending; a report for another batch, a malformed or hostile one,
is refused whole and books nothing."""
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ledger.models import Withdrawal
from ledger.selectors import prove_merchant
from payouts import files
from payouts.models import PayoutLine
from payouts.services import answers
from payouts.status_report import parse_status_report
from tests import factories as f

from .helpers import available, released

pytestmark = pytest.mark.django_db
NS = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"


def pain002(original_msg_id, transactions, *, group_status="PART", group_reason=None) -> bytes:
    """A status report as a bank sends it: (end-to-end id, TxSts, reason code, bank reference)."""
    def sub(parent, tag, text=None):
        element = etree.SubElement(parent, f"{{{NS}}}{tag}")
        if text is not None:
            element.text = text
        return element

    root = etree.Element(f"{{{NS}}}Document", nsmap={None: NS})
    report = sub(root, "CstmrPmtStsRpt")
    header = sub(report, "GrpHdr")
    sub(header, "MsgId", "STS-1")
    sub(header, "CreDtTm", "2026-12-04T17:00:00")
    group = sub(report, "OrgnlGrpInfAndSts")
    sub(group, "OrgnlMsgId", original_msg_id)
    sub(group, "OrgnlMsgNmId", "pain.001.001.03")
    sub(group, "GrpSts", group_status)
    if group_reason:
        sub(sub(sub(group, "StsRsnInf"), "Rsn"), "Cd", group_reason)
    if transactions:
        block = sub(report, "OrgnlPmtInfAndSts")
        sub(block, "OrgnlPmtInfId", original_msg_id)
        for e2e, status, reason, reference in transactions:
            tx = sub(block, "TxInfAndSts")
            sub(tx, "OrgnlEndToEndId", e2e)
            sub(tx, "TxSts", status)
            if reason:
                info = sub(tx, "StsRsnInf")
                sub(sub(info, "Rsn"), "Cd", reason)
                sub(info, "AddtlInf", "户名不符 name mismatch")
            if reference:
                sub(tx, "AcctSvcrRef", reference)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _lines(batch):
    return list(batch.lines.order_by("pk"))


def test_a_status_report_books_settled_payments_paid_and_rejected_ones_returned():
    # given a released batch of two withdrawals and a micro-deposit, answered by the bank's pain.002:
    # the first settled, the second rejected (AC04, account closed), the micro-deposit still pending
    batch, withdrawals, _card = released(("100.00", "250.50"))
    first, second, micro = _lines(batch)
    before = prove_merchant(batch.merchant).supervision_balance
    report = pain002(batch.reference, [(first.end_to_end_id, "ACSC", None, "BK0001"),
                                       (second.end_to_end_id, "RJCT", "AC04", None),
                                       (micro.end_to_end_id, "ACSP", None, None)])
    # when operations upload it
    done = answers.payout_batch_apply_result(batch=batch, actor=f.ops(), data=report)
    # then the settled one is paid with the bank's reference, the rejected one is back to available
    assert done == {"paid": 1, "returned": 1, "replayed": 0}
    paid, failed = (Withdrawal.objects.get(pk=w.pk) for w in withdrawals)
    assert (paid.status, paid.bank_reference) == ("paid", "BK0001")
    assert failed.status == "failed" and "AC04" in failed.reason and "name mismatch" in failed.reason
    assert available(failed.member) == Decimal("1000.00")
    assert prove_merchant(batch.merchant).supervision_balance == before - Decimal("100.00")
    # and the micro-deposit waits for a later report, the batch partly settled
    micro.refresh_from_db()
    batch.refresh_from_db()
    assert micro.status == PayoutLine.Status.PENDING and batch.status == "partially_settled"
    # and the same report again books nothing
    assert answers.payout_batch_apply_result(batch=batch, actor=f.ops(), data=report) == {
        "paid": 0, "returned": 0, "replayed": 2}


def test_a_report_rejecting_the_whole_file_returns_every_payment():
    batch, withdrawals, _card = released(("100.00",))
    report = pain002(batch.reference, [], group_status="RJCT", group_reason="FF01")
    done = answers.payout_batch_apply_result(batch=batch, actor=f.ops(), data=report)
    assert done["returned"] == 2 and done["paid"] == 0
    withdrawal = Withdrawal.objects.get(pk=withdrawals[0].pk)
    assert withdrawal.status == "failed" and "FF01" in withdrawal.reason
    batch.refresh_from_db()
    assert batch.status == "settled"


@pytest.mark.parametrize(("make", "says"), [
    (lambda b, e2e: pain002("PB-OTHER", [(e2e, "ACSC", None, "B1")]), "not batch"),
    (lambda b, e2e: pain002(b.reference, [(e2e, "XXXX", None, None)]), "not an ISO 20022 transaction status"),
    (lambda b, e2e: pain002(b.reference, [(e2e, "ACSP", None, None)]), "no final answer yet"),
    (lambda b, e2e: pain002(b.reference, [(e2e, "ACSC", None, "B1"), (e2e, "ACSC", None, "B1")]), "twice"),
    (lambda b, e2e: pain002(b.reference, [("PB-NOPE-0001", "ACSC", None, "B1")]), "is not a payment of batch"),
    (lambda b, e2e: b"<Document><Nope/></Document>", "pain.002"),
    (lambda b, e2e: b"<Document><CstmrPmtStsRpt>", "not well-formed"),
    (lambda b, e2e: (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                     b'<Document xmlns="' + NS.encode() + b'"><CstmrPmtStsRpt><OrgnlGrpInfAndSts><OrgnlMsgId>&x;'
                     b'</OrgnlMsgId></OrgnlGrpInfAndSts></CstmrPmtStsRpt></Document>'), "not batch"),
])
def test_a_bad_status_report_is_refused_whole_and_books_nothing(make, says):
    batch, withdrawals, _card = released(("100.00",))
    first = _lines(batch)[0]
    with pytest.raises(files.ResultFileRefused) as refused:
        answers.payout_batch_apply_result(batch=batch, actor=f.ops(), data=make(batch, first.end_to_end_id))
    assert says in str(refused.value.message) + " ".join(refused.value.details.get("errors", []))
    assert "root:" not in str(refused.value.message)  # an external entity is never read
    assert Withdrawal.objects.get(pk=withdrawals[0].pk).status == "processing"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400).map(lambda b: b"<" + b))
def test_any_xml_ish_bytes_give_a_report_or_errors_never_an_exception(data):
    # any bytes: a report (each answer paid or returned) or the errors that refuse it, never a crash
    report = parse_status_report(data)
    assert all(t.status in ("paid", "returned") for t in report.transactions)
    assert report.errors or report.original_message_id is not None
