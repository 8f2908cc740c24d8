import pytest
from django.db import connection

from core.errors import (
    Duplicate,
    InvalidAmount,
    InvalidState,
    PermissionRefused,
    ValidationFailed,
)
from merchants.models import Member
from merchants.services.members import (
    bank_card_add,
    bank_card_verify,
    member_close,
    member_freeze,
    member_unfreeze,
)
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_individual_member_is_active_and_masked():
    merchant = f.active_merchant()
    m = f.member(merchant, id_number="110101199003071234", phone="13812345678")
    assert m.status == Member.Status.ACTIVE
    assert m.id_number_masked == "110***********1234"
    assert m.phone_masked == "138****5678"
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM merchants_member WHERE id = %s", [m.pk])
        raw_id, raw_phone = cursor.fetchone()
    assert "110101199003071234" not in raw_id and "13812345678" not in raw_phone


def test_user_id_is_unique_per_merchant_only():
    a, b = f.active_merchant(), f.active_merchant()
    f.member(a, user_id="u-1")
    with pytest.raises(Duplicate):
        f.member(a, user_id="u-1")
    f.member(b, user_id="u-1")


def test_individual_card_with_matching_name_verifies_at_once():
    merchant = f.active_merchant()
    m = f.member(merchant, name="张三")
    card = bank_card_add(member=m, actor=merchant.relationship_manager, account_number="6222 0202 0011 2233 445",
                                  account_name="张三", bank_name="ICBC")
    assert card.verified and card.masked_number == "6222***********3445"
    other = bank_card_add(member=m, actor=merchant.relationship_manager, account_number="6222020200112233999",
                                   account_name="李四", bank_name="ICBC")
    assert not other.verified


def test_business_member_verifies_by_micro_deposit():
    # given a business member, pending until its corporate account is verified
    merchant = f.active_merchant()
    m = f.member(merchant, kind="business", name="Shandong Grain Co Ltd")
    assert m.status == Member.Status.PENDING_VERIFICATION
    card = bank_card_add(member=m, actor=merchant.relationship_manager, account_number="37001618801050012345",
                                  account_name="Shandong Grain Co Ltd", bank_name="CCB")
    assert not card.verified and card.micro_deposit_amount is not None
    f.micro_deposit_paid(card)  # the bank paid it into the account
    # when the wrong amount is given, then it is refused and counted
    wrong = "0.99" if card.micro_deposit_amount != __import__("decimal").Decimal("0.99") else "0.98"
    with pytest.raises(InvalidAmount):
        bank_card_verify(card=card, actor=merchant.relationship_manager, amount=wrong)
    card.refresh_from_db()
    assert card.verify_attempts == 1 and not card.verified
    # when the right amount is given, then the card and the member are verified
    bank_card_verify(card=card, actor=merchant.relationship_manager, amount=str(card.micro_deposit_amount))
    card.refresh_from_db(); m.refresh_from_db()
    assert card.verified and m.status == Member.Status.ACTIVE


def test_micro_deposit_guessing_stops_after_the_limit():
    merchant = f.active_merchant()
    m = f.member(merchant, kind="business", name="Co")
    card = bank_card_add(member=m, actor=None, account_number="37001618801050012345", account_name="Co",
                                  bank_name="CCB")
    f.micro_deposit_paid(card)
    wrong = "0.99" if str(card.micro_deposit_amount) != "0.99" else "0.98"
    for _ in range(card.MAX_VERIFY_ATTEMPTS):
        with pytest.raises(InvalidAmount):
            bank_card_verify(card=card, actor=None, amount=wrong)
    with pytest.raises(InvalidState):
        bank_card_verify(card=card, actor=None, amount=str(card.micro_deposit_amount))


def test_bad_card_input_is_refused_clearly():
    merchant = f.active_merchant()
    m = f.member(merchant)
    with pytest.raises(ValidationFailed) as err:
        bank_card_add(member=m, actor=None, account_number="12ab", account_name="x", bank_name="y")
    assert "account_number" in err.value.details


def test_member_freeze_unfreeze_close_by_risk_with_reasons():
    merchant = f.active_merchant()
    m = f.member(merchant)
    officer = f.risk()
    with pytest.raises(PermissionRefused):
        member_freeze(member=m, actor=f.rm(), reason="x")
    with pytest.raises(ValidationFailed):
        member_freeze(member=m, actor=officer, reason="")
    member_freeze(member=m, actor=officer, reason="Fraud report")
    m.refresh_from_db()
    assert m.status == Member.Status.FROZEN
    member_unfreeze(member=m, actor=officer, reason="Cleared")
    member_close(member=m, actor=officer, reason="Account closed at request")
    m.refresh_from_db()
    assert m.status == Member.Status.CLOSED
    with pytest.raises(InvalidState):
        member_freeze(member=m, actor=officer, reason="again")


def test_a_micro_deposit_not_yet_paid_or_returned_can_t_be_read_back():
    # given a business card whose micro-deposit the bank has not paid yet
    from merchants.models import MicroDeposit
    from merchants.services.members import bank_card_micro_deposit_returned, bank_card_micro_deposit_sent

    merchant = f.active_merchant()
    m = f.member(merchant, kind="business", name="Qilu Co")
    card = bank_card_add(member=m, actor=None, account_number="37001618801050012399", account_name="Qilu Co",
                         bank_name="CCB")
    # when the member tries the right amount while it is to be sent or sent, then it is refused clearly
    for step in (None, bank_card_micro_deposit_sent):
        if step:
            step(card=card, actor=None, batch_reference="PB1")
        with pytest.raises(InvalidState) as err:
            bank_card_verify(card=card, actor=None, amount=str(card.micro_deposit_amount))
        assert "not reached the account" in str(err.value.message)
    # and once returned, the refusal says the account is wrong, and nothing is counted
    bank_card_micro_deposit_returned(card=card, actor=None, reason="账户不存在 no such account")
    with pytest.raises(InvalidState) as err:
        bank_card_verify(card=card, actor=None, amount=str(card.micro_deposit_amount))
    assert "account is wrong" in str(err.value.message)
    card.refresh_from_db()
    assert card.micro_deposit_status == MicroDeposit.RETURNED and card.verify_attempts == 0 and not card.verified
