"""Receipts (回单): printable proof of a payment, a refund, a paid withdrawal; and the amount in
Chinese capitals they print."""
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from core.money import amount_in_chinese_capitals
from ledger.services import deposits
from ledger.services.payments import payment_create, payment_refund, payment_release
from merchants.services.members import bank_card_add
from tests import factories as f

D = Decimal


@pytest.mark.parametrize("amount, words", [
    ("0.01", "壹分"),
    ("0.10", "壹角整"),
    ("0.00", "零元整"),
    ("1.01", "壹元零壹分"),
    ("10.00", "壹拾元整"),
    ("10.50", "壹拾元伍角整"),
    ("101.00", "壹佰零壹元整"),
    ("1010.00", "壹仟零壹拾元整"),
    ("1234.50", "壹仟贰佰叁拾肆元伍角整"),
    ("1234.05", "壹仟贰佰叁拾肆元零伍分"),
    ("10000.00", "壹万元整"),
    ("30000.03", "叁万元零叁分"),
    ("100000.05", "壹拾万元零伍分"),
    ("100100.00", "壹拾万零壹佰元整"),
    ("10000500.00", "壹仟万零伍佰元整"),
    ("10100005.00", "壹仟零壹拾万零伍元整"),
    ("12345678.90", "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角整"),
    ("100000001.00", "壹亿零壹元整"),
    ("100001000.00", "壹亿零壹仟元整"),
    ("100010001.00", "壹亿零壹万零壹元整"),
    ("100050000.00", "壹亿零伍万元整"),
    ("110000000.00", "壹亿壹仟万元整"),
    ("200000010.00", "贰亿零壹拾元整"),
    ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
])
def test_amounts_in_chinese_capitals(amount, words):
    assert amount_in_chinese_capitals(D(amount)) == words


# --- pages -------------------------------------------------------------------------------

def fund(merchant, member, amount):
    deposit = deposits.deposit_announce(merchant=merchant, actor=None, member=member, amount=amount,
                                        order_no=f"DEP-{member.user_id}", method="offline_transfer")
    deposits.deposit_credit(deposit=deposit, actor=None, amount=amount, proof_kind="statement_line",
                            proof_reference=f"SL-{deposit.pk}")


@pytest.fixture
def shop(db):
    merchant = f.active_merchant()
    buyer = f.member(merchant, name="Zhang San", id_number="110101199003071234")
    seller = f.member(merchant, name="Li Si Trading", id_number="370102198001019876")
    fund(merchant, buyer, "200000.00")
    return merchant, buyer, seller


def page(client, user, name, pk):
    client.force_login(user)
    return client.get(reverse(f"ledger:{name}", args=[pk]))


TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def test_a_payment_receipt_names_the_parties_and_the_amount_in_figures_and_words(client, shop, settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "SUPERVISION_BANK_NAME": "Qilu Supervision Bank"}
    merchant, buyer, seller = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="101234.50", order_no="ORD-9",
                                mode="direct", splits=[(seller, "101200.00")], platform_fee="34.50")
    response = page(client, merchant.relationship_manager, "payment-receipt", payment.pk)
    assert response.status_code == 200
    html = response.content.decode()
    for text in ["Zhang San", "110***********1234", "Li Si Trading", "370***********9876", buyer.user_id,
                 "101,234.50", "101,200.00", "34.50", "壹拾万壹仟贰佰叁拾肆元伍角整", "ORD-9",
                 f"#{payment.entry_id}", "Qilu Supervision Bank", "window.print()", "@media print",
                 merchant.legal_name]:
        assert text in html, text
    assert "1101011990030712" not in html  # never the full identity number
    assert TIME.search(html)


def test_the_receipt_time_is_beijing_time(client, shop):
    merchant, buyer, seller = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="1.00", order_no="T",
                                mode="direct", splits=[(seller, "1.00")])
    from zoneinfo import ZoneInfo

    expected = payment.entry.created_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    html = page(client, f.ops(), "payment-receipt", payment.pk).content.decode()
    assert f'<td id="booked-at">{expected}' in html


def test_a_guaranteed_payment_has_a_receipt_only_once_released(client, shop):
    merchant, buyer, seller = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="10.00", order_no="G",
                                mode="guaranteed", splits=[(seller, "10.00")])
    ops = f.ops()
    assert page(client, ops, "payment-receipt", payment.pk).status_code == 404
    payment = payment_release(payment=payment, actor=ops)
    response = page(client, ops, "payment-receipt", payment.pk)
    assert response.status_code == 200
    assert f"#{payment.release_entry_id}" in response.content.decode()


def test_a_refund_receipt_names_who_gave_the_money_back(client, shop):
    merchant, buyer, seller = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="100.00", order_no="P",
                                mode="direct", splits=[(seller, "90.00")], platform_fee="10.00")
    refund = payment_refund(payment=payment, actor=None, amount="50.00", reason="wrong size", idempotency_ref="R")
    response = page(client, merchant.relationship_manager, "refund-receipt", refund.pk)
    assert response.status_code == 200
    html = response.content.decode()
    payers = html[html.index('id="payers"'):html.index('id="payees"')]
    payees = html[html.index('id="payees"'):]
    assert "Li Si Trading" in payers and "45.00" in payers and "Platform fee income" in payers
    assert "Zhang San" in payees and "50.00" in payees
    assert "伍拾元整" in html and "wrong size" in html and f"#{refund.entry_id}" in html


def test_a_refund_while_held_names_the_escrow_account(client, shop):
    merchant, buyer, seller = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="100.00", order_no="H",
                                mode="guaranteed", splits=[(seller, "100.00")])
    refund = payment_refund(payment=payment, actor=None, amount="100.00", reason="cancelled", idempotency_ref="R")
    html = page(client, f.ops(), "refund-receipt", refund.pk).content.decode()
    assert "Escrow" in html[html.index('id="payers"'):html.index('id="payees"')]
    # the payment never reached the seller: no payment receipt
    assert page(client, f.ops(), "payment-receipt", payment.pk).status_code == 404


def _withdrawal(merchant, member, ops):
    from ledger.services import withdrawals

    card = bank_card_add(member=member, actor=None, account_number="6222020200112233445",
                                           account_name=member.name, bank_name="ICBC Jinan Branch")
    w, _ = withdrawals.withdrawal_request(merchant=merchant, actor=None, member=member, amount="1500.00",
                                          bank_card=card, order_no="W-1")
    return w, withdrawals


def test_a_paid_withdrawal_receipt_shows_the_masked_card(client, shop):
    merchant, buyer, _seller = shop
    ops = f.ops()
    withdrawal, withdrawals = _withdrawal(merchant, buyer, ops)
    # not paid yet: no receipt
    assert page(client, ops, "withdrawal-receipt", withdrawal.pk).status_code == 404
    withdrawals.withdrawal_process(withdrawal=withdrawal, actor=ops)
    withdrawal = withdrawals.withdrawal_mark_paid(withdrawal=withdrawal, actor=ops, bank_reference="BR-77")
    response = page(client, ops, "withdrawal-receipt", withdrawal.pk)
    assert response.status_code == 200
    html = response.content.decode()
    for text in ["Zhang San", "110***********1234", "6222***********3445", "ICBC Jinan Branch", "1,500.00",
                 "壹仟伍佰元整", f"#{withdrawal.final_entry_id}", "BR-77"]:
        assert text in html, text
    assert "6222020200112233445" not in html


def test_other_merchants_receipts_are_not_found(client, shop):
    merchant, buyer, seller = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="1.00", order_no="X",
                                mode="direct", splits=[(seller, "1.00")])
    refund = payment_refund(payment=payment, actor=None, amount="1.00", reason="r", idempotency_ref="R")
    other_rm = f.active_merchant().relationship_manager  # an RM of another portfolio
    assert page(client, other_rm, "payment-receipt", payment.pk).status_code == 404
    assert page(client, other_rm, "refund-receipt", refund.pk).status_code == 404
    assert page(client, other_rm, "payment-receipt", 999999).status_code == 404


def test_receipts_are_for_staff_only(client, shop):
    merchant, buyer, seller = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="1.00", order_no="X",
                                mode="direct", splits=[(seller, "1.00")])
    url = reverse("ledger:payment-receipt", args=[payment.pk])
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    # a staff user without any role may not read the ledger
    client.force_login(f.UserFactory())
    assert client.get(url).status_code == 403
