"""A released batch's file in both formats (CSV 代发 and pain.001.001.03, valid against the official
schema shipped by the sepaxml package), the bank's result file read back and booked: paid money
leaves the supervision account, returned money is available again, micro-deposits become
verifiable or tell the platform; a bad result file is refused whole and books nothing."""
import csv
import io
import os
from decimal import Decimal

import pytest
import sepaxml
from lxml import etree

from core.errors import InvalidState, ValidationFailed
from ledger.models import JournalEntry, Withdrawal
from ledger.selectors import prove_merchant
from merchants.models import BankCard, MicroDeposit
from merchants.services.members import bank_card_verify
from payouts import files
from payouts.models import PayoutBatch, PayoutLine
from payouts.services import answers
from payouts.services.batches import payout_batch_build
from tests import factories as f

from .helpers import available, released

pytestmark = pytest.mark.django_db
HEADER = "end_to_end_id,status,reason,bank_reference"
XSD = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.001.001.03.xsd")


def _lines(batch):
    return list(batch.lines.order_by("pk"))


def result_file(rows) -> bytes:
    return ("\ufeff" + HEADER + "\r\n" + "\r\n".join(",".join(r) for r in rows) + "\r\n").encode("utf-8")


def _answer_csv(batch, answers_by_kind) -> bytes:
    """The bank's answer built from the CSV we sent: what a round trip sees."""
    sent = list(csv.reader(io.StringIO(files.batch_csv(batch, _lines(batch)).decode("utf-8-sig"))))
    rows = []
    for e2e, _acct, _name, _bank, _amount, _purpose in sent[3:]:
        status, reason = answers_by_kind.get(e2e, ("paid", ""))
        rows.append((e2e, status, reason, f"BK{e2e[-4:]}"))
    return result_file(rows)


def test_the_csv_file_has_the_summary_row_and_one_row_per_payment():
    # given a released batch
    batch, withdrawals, card = released(("100.00", "250.50"))
    # when its CSV is generated
    rows = list(csv.reader(io.StringIO(files.batch_csv(batch, _lines(batch)).decode("utf-8-sig"))))
    # then the summary names the batch, value date, count, control sum and the debtor account
    assert rows[0] == files.CSV_SUMMARY
    assert rows[1][:4] == [batch.reference, batch.value_date.isoformat(), "3", f"{batch.control_sum:.2f}"]
    assert rows[1][4:] == [batch.merchant.supervision_account_number, batch.merchant.legal_name, "CNY"]
    assert rows[2] == files.CSV_COLUMNS and len(rows) == 3 + 3
    first = rows[3]
    assert first[0].startswith(batch.reference) and first[1] == withdrawals[0].bank_card.account_number
    assert first[2] == withdrawals[0].bank_card.account_name and first[4] == "100.00"
    assert sum(Decimal(r[4]) for r in rows[3:]) == batch.control_sum


def test_the_pain001_message_is_valid_against_the_official_schema():
    # given a released batch with Chinese names
    batch, withdrawals, card = released(("100.00", "0.01"))
    # when its pain.001.001.03 message is generated
    document = etree.fromstring(files.batch_pain001(batch, _lines(batch)))
    # then the official XSD accepts it
    schema = etree.XMLSchema(etree.parse(XSD))
    assert schema.validate(document), schema.error_log
    ns = {"p": files.PAIN_NS}
    assert document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=ns) == batch.reference
    assert document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=ns) == "3"
    assert Decimal(document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=ns)) == batch.control_sum
    info = document.find("p:CstmrCdtTrfInitn/p:PmtInf", namespaces=ns)
    assert info.findtext("p:DbtrAcct/p:Id/p:Othr/p:Id", namespaces=ns) == batch.merchant.supervision_account_number
    amounts = info.findall("p:CdtTrfTxInf/p:Amt/p:InstdAmt", namespaces=ns)
    assert {a.get("Ccy") for a in amounts} == {"CNY"}
    assert info.findtext("p:CdtTrfTxInf/p:Cdtr/p:Nm", namespaces=ns) == withdrawals[0].bank_card.account_name


def test_a_round_trip_books_paid_withdrawals_out_of_the_supervision_account_and_returns_one():
    # given a released batch: two withdrawals and a micro-deposit, the events platforms receive
    batch, withdrawals, card = released(("100.00", "250.50"))
    events = f.listening(batch.merchant)
    seller_paid, seller_returned = withdrawals[0].member, withdrawals[1].member
    before = prove_merchant(batch.merchant).supervision_balance
    # when the bank answers (generated from the XML's end-to-end ids): the second is returned
    returned_e2e = _lines(batch)[1].end_to_end_id
    xml_ids = etree.fromstring(files.batch_pain001(batch, _lines(batch))).findall(
        ".//{%s}EndToEndId" % files.PAIN_NS)
    assert [e.text for e in xml_ids] == [line.end_to_end_id for line in _lines(batch)]
    done = answers.payout_batch_apply_result(
        batch=batch, actor=f.ops(), data=_answer_csv(batch, {returned_e2e: ("returned", "户名不符 name mismatch")}))
    # then one withdrawal is paid (money left the supervision account), one failed (back to available)
    assert done == {"paid": 2, "returned": 1, "replayed": 0}
    paid, failed = (Withdrawal.objects.get(pk=w.pk) for w in withdrawals)
    assert paid.status == "paid" and paid.bank_reference.startswith("BK")
    assert failed.status == "failed" and "name mismatch" in failed.reason
    assert available(seller_returned) == Decimal("1000.00")
    assert available(seller_paid) == Decimal("900.00")
    card.refresh_from_db()
    # (the micro-deposit left too, paid by the platform: ledger.services.micro_deposits)
    assert prove_merchant(batch.merchant).supervision_balance == before - Decimal("100.00") - card.micro_deposit_amount
    # and the micro-deposit is paid: the member may now read it back
    assert card.micro_deposit_status == MicroDeposit.PAID
    assert bank_card_verify(card=card, actor=None, amount=str(card.micro_deposit_amount)).verified
    # and the batch is settled, each line saying what happened, the platform told of each withdrawal
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.SETTLED and batch.settled_at
    assert PayoutLine.objects.get(end_to_end_id=returned_e2e).return_reason == "户名不符 name mismatch"
    assert [t for t, _d in events("withdrawal.paid", "withdrawal.failed")] == ["withdrawal.paid", "withdrawal.failed"]
    # and the same file again changes nothing
    entries = JournalEntry.objects.count()
    again = answers.payout_batch_apply_result(batch=batch, actor=f.ops(), data=_answer_csv(
        batch, {returned_e2e: ("returned", "户名不符 name mismatch")}))
    assert again["replayed"] == 3 and JournalEntry.objects.count() == entries


def test_a_partial_answer_leaves_the_batch_partially_settled_until_the_rest_comes():
    batch, withdrawals, card = released(("100.00", "250.50"))
    first = _lines(batch)[0]
    answers.payout_batch_apply_result(batch=batch, actor=f.ops(), data=result_file([(first.end_to_end_id, "paid",
                                                                                       "", "B1")]))
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.PARTIALLY_SETTLED
    rest = [(line.end_to_end_id, "paid", "", f"B{line.pk}") for line in _lines(batch)[1:]]
    answers.payout_batch_apply_result(batch=batch, actor=f.ops(), data=result_file(rest))
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.SETTLED


def test_a_returned_micro_deposit_tells_the_platform_the_account_is_wrong():
    batch, _w, card = released(("10.00",))
    events = f.listening(batch.merchant)
    micro = _lines(batch)[-1]
    answers.payout_batch_apply_result(batch=batch, actor=f.ops(), data=result_file(
        [(micro.end_to_end_id, "returned", "账户不存在 no such account", "B9")]))
    card = BankCard.objects.get(pk=card.pk)
    assert card.micro_deposit_status == MicroDeposit.RETURNED and "no such account" in card.micro_deposit_return_reason
    (event_type, data), = events("bank_card.micro_deposit_returned")
    assert data["bank_card_id"] == card.pk and data["reason"] == "账户不存在 no such account"
    assert "*" in data["masked_number"]
    with pytest.raises(InvalidState):
        bank_card_verify(card=card, actor=None, amount=str(card.micro_deposit_amount))


@pytest.mark.parametrize("content, says", [
    (b"", "empty"),
    (b"id,result\nX,paid\n", "header"),
    (HEADER.encode() + b"\n", "no rows"),
    (HEADER.encode() + b"\n{e2e},maybe,,B1\n", "paid or returned"),
    (HEADER.encode() + b"\n{e2e},returned,,B1\n", "reason"),
    (HEADER.encode() + b"\n{e2e},paid,,B1\n{e2e},paid,,B1\n", "twice"),
    (HEADER.encode() + b"\n{e2e},paid\n", "columns"),
    (HEADER.encode() + b"\nPB19990101M1N1-0001,paid,,B1\n", "not a payment of batch"),
    (b"\xff\xfe\x00garbage", "UTF-8"),
])
def test_a_bad_result_file_is_refused_whole_and_books_nothing(content, says):
    # given a released batch
    batch, withdrawals, _card = released(("100.00",))
    e2e = _lines(batch)[0].end_to_end_id
    good_row = f"\n{_lines(batch)[1].end_to_end_id},paid,,B2".encode()
    data = content.replace(b"{e2e}", e2e.encode())
    if data.startswith(HEADER.encode()) and says not in ("no rows",):
        data += good_row  # a good row beside the bad one: it is not booked either
    entries = JournalEntry.objects.count()
    # when the file is uploaded, then it is refused with what is wrong, and nothing is booked
    with pytest.raises(ValidationFailed) as err:
        answers.payout_batch_apply_result(batch=batch, actor=f.ops(), data=data)
    assert says in str(err.value.message)
    assert JournalEntry.objects.count() == entries
    assert not PayoutLine.objects.filter(batch=batch).exclude(status="pending").exists()
    assert Withdrawal.objects.get(pk=withdrawals[0].pk).status == "processing"


def test_an_answer_contradicting_an_earlier_one_is_refused():
    batch, _w, _c = released(("100.00",))
    e2e = _lines(batch)[0].end_to_end_id
    answers.payout_batch_apply_result(batch=batch, actor=f.ops(), data=result_file([(e2e, "paid", "", "B1")]))
    with pytest.raises(ValidationFailed) as err:
        answers.payout_batch_apply_result(batch=batch, actor=f.ops(),
                                          data=result_file([(e2e, "returned", "closed", "B1")]))
    assert "already answered" in str(err.value.message)


def test_a_result_file_for_a_batch_not_released_is_refused():
    from .helpers import world

    merchant, _w, _c = world()
    draft = payout_batch_build(merchant=merchant, actor=f.ops())
    with pytest.raises(InvalidState):
        answers.payout_batch_apply_result(batch=draft, actor=f.ops(), data=result_file([("X", "paid", "", "B")]))
