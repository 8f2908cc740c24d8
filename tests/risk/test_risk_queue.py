"""The risk queue: a movement an outflow rule put in review waits with its money
held; a risk officer who did not write the rule approves it (it books as it would have) or refuses
it with a reason (the money returns); each step audited, the platform told by webhook, the books
proven after every booking."""
import pytest
from django.utils import timezone

from core.actors import Actor
from core.audit import timeline_for
from core.errors import InvalidState, PermissionRefused, ValidationFailed
from ledger.models import Payment, PaymentRelease, Withdrawal
from ledger.selectors import prove_merchant
from ledger.services.accounts import member_accounts, platform_account
from merchants.models import Merchant
from risk.models import RiskReview, RuleHit
from risk.services.reviews import review_approve, review_refuse
from tests import factories as f

from .rules_helpers import D, pay, release, rule, shop, withdraw

pytestmark = pytest.mark.django_db


def balances(member):
    available, frozen = member_accounts(member)
    available.refresh_from_db()
    frozen.refresh_from_db()
    return available.balance, frozen.balance


def proven(merchant):
    proof = prove_merchant(merchant)
    assert proof.supervision_balance == proof.virtual_total and not proof.mismatched_accounts


def reviewed_payment(mode="direct", amount="1500.00"):
    merchant, buyer, seller = shop()
    events = f.listening(merchant)
    author = f.risk()
    rule(merchant, name="big", author=author)
    payment = pay(buyer, seller, amount, mode=mode)
    return merchant, buyer, seller, payment, RiskReview.objects.get(payment=payment), author, events


# --- payments --------------------------------------------------------------------------------

def test_a_payment_in_review_tells_the_platform():
    merchant, buyer, _seller, payment, review, _author, events = reviewed_payment()
    [(kind, data)] = events("payment.review")
    assert (data["review_id"], data["payment_id"], data["status"], data["rule"], data["amount"]) == (
        review.pk, payment.pk, "in_review", "big", "1500.00")
    assert timeline_for(review).get().action == "raise"


def test_an_approved_direct_payment_books_as_it_would_have():
    # given a direct payment in review
    merchant, buyer, seller, payment, review, _author, events = reviewed_payment()
    # when another risk officer approves it
    officer = f.risk()
    review_approve(review=review, actor=officer, reason="known customer")
    # then it settles: the hold is undone and the payment entry books payer → payee
    payment.refresh_from_db()
    review.refresh_from_db()
    assert (payment.status, review.status, review.decided_by) == ("settled", "approved", officer)
    assert payment.entry is not None
    assert balances(buyer) == (D("3500.00"), D("0.00")) and balances(seller) == (D("1500.00"), D("0.00"))
    [(_kind, data)] = events("payment.review_approved")
    assert (data["status"], data["review_status"], data["reason"]) == ("settled", "approved", "known customer")
    assert [e.action for e in timeline_for(payment)] == ["pass_review_settle"]
    proven(merchant)


def test_an_approved_guaranteed_payment_is_held_in_escrow_with_its_auto_release_from_now():
    merchant, buyer, _seller, payment, review, _author, _events = reviewed_payment(mode="guaranteed")
    before = timezone.now()
    review_approve(review=review, actor=f.risk())
    payment.refresh_from_db()
    escrow = platform_account(merchant, "escrow")
    assert payment.status == "held" and payment.auto_release_at > before and payment.held_amount == D("1500.00")
    assert balances(buyer) == (D("3500.00"), D("0.00"))
    assert escrow.balance + sum(d.change for d in escrow.hot_deltas.all()) == D("1500.00") if hasattr(
        escrow, "hot_deltas") else True
    proven(merchant)


def test_a_refused_payment_gives_the_money_back_and_keeps_its_order_number():
    merchant, buyer, seller, payment, review, _author, events = reviewed_payment()
    review_refuse(review=review, actor=f.risk(), reason="fake order")
    payment.refresh_from_db()
    assert (payment.status, payment.entry) == ("refused", None)
    assert balances(buyer) == (D("5000.00"), D("0.00")) and balances(seller) == (D("0.00"), D("0.00"))
    [(_kind, data)] = events("payment.review_refused")
    assert (data["status"], data["reason"]) == ("refused", "fake order")
    # the same order again is the refused payment (a replay), never a second booking
    again = pay(buyer, seller, "1500.00", order_no=payment.order_no)
    assert again.pk == payment.pk and again.status == "refused"
    proven(merchant)


def test_a_payment_in_review_cannot_be_refunded_or_released():
    from ledger.services.payments import payment_refund

    _merchant, _buyer, _seller, payment, _review, _author, _events = reviewed_payment(mode="guaranteed")
    with pytest.raises(InvalidState):
        payment_refund(payment=payment, actor=None, amount="10.00", reason="x", idempotency_ref="r-1")
    with pytest.raises(InvalidState):
        release(payment)


# --- withdrawals -----------------------------------------------------------------------------

def reviewed_withdrawal(amount="1500.00", threshold=None):
    merchant, member, _seller = shop()
    if threshold is not None:
        Merchant.objects.filter(pk=merchant.pk).update(withdrawal_approval_threshold=D(threshold))
        merchant.refresh_from_db()
        member.merchant = merchant
    events = f.listening(merchant)
    author = f.risk()
    rule(merchant, movement="withdrawal", author=author)
    withdrawal = withdraw(member, amount)
    return merchant, member, withdrawal, RiskReview.objects.get(withdrawal=withdrawal), author, events


def test_a_withdrawal_in_review_keeps_its_money_frozen_and_tells_the_platform():
    merchant, member, withdrawal, review, _author, events = reviewed_withdrawal()
    assert withdrawal.status == "in_review" and balances(member) == (D("3500.00"), D("1500.00"))
    assert events("withdrawal.review")[0][1]["withdrawal_id"] == withdrawal.pk
    proven(merchant)


@pytest.mark.parametrize(("threshold", "status"), [("100000.00", "approved"), ("1000.00", "pending_approval")])
def test_an_approved_withdrawal_goes_on_as_it_would_have(threshold, status):
    merchant, member, withdrawal, review, _author, events = reviewed_withdrawal(threshold=threshold)
    review_approve(review=review, actor=f.risk())
    withdrawal.refresh_from_db()
    assert withdrawal.status == status and balances(member) == (D("3500.00"), D("1500.00"))
    assert events("withdrawal.review_approved")[0][1]["status"] == status
    proven(merchant)


def test_a_refused_withdrawal_is_rejected_and_its_money_returns():
    merchant, member, withdrawal, review, _author, events = reviewed_withdrawal()
    review_refuse(review=review, actor=f.risk(), reason="card not the member's")
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.reason) == ("rejected", "card not the member's")
    assert balances(member) == (D("5000.00"), D("0.00"))
    assert events("withdrawal.review_refused")[0][1]["status"] == "rejected"
    proven(merchant)


# --- releases --------------------------------------------------------------------------------

def reviewed_release():
    merchant, buyer, seller = shop()
    events = f.listening(merchant)
    payment = pay(buyer, seller, "800.00", mode="guaranteed")
    author = f.risk()
    rule(merchant, movement="release", kind="quick_release", hours=24, amount=None, author=author)
    held = release(payment, amount="300.00", ref="api:rel-1")
    return merchant, seller, payment, held, RiskReview.objects.get(movement="release"), author, events


def test_a_release_in_review_moves_nothing():
    merchant, seller, payment, held, review, _author, events = reviewed_release()
    payment.refresh_from_db()
    assert held.pending_review.id == review.pk and payment.status == "held" and payment.held_amount == D("800.00")
    assert review.request == {"amount": "300.00", "splits": None, "reason": "", "idempotency_ref": "api:rel-1"}
    assert balances(seller) == (D("0.00"), D("0.00")) and not PaymentRelease.objects.exists()
    assert events("release.review")[0][1]["payment_id"] == payment.pk
    proven(merchant)


def test_the_same_release_again_is_the_same_review_and_another_waits_for_it():
    _merchant, _seller, payment, _held, review, _author, _events = reviewed_release()
    hits = RuleHit.objects.count()
    again = release(payment, amount="300.00", ref="api:rel-1")
    assert again.pending_review.id == review.pk and not again.pending_review.created
    assert RiskReview.objects.count() == 1 and RuleHit.objects.count() == hits
    with pytest.raises(InvalidState):
        release(payment, ref="api:rel-2")


def test_an_approved_release_books_the_request_as_made():
    merchant, seller, payment, _held, review, _author, events = reviewed_release()
    review_approve(review=review, actor=f.risk())
    payment.refresh_from_db()
    assert payment.status == "partially_released" and payment.released_amount == D("300.00")
    assert balances(seller) == (D("300.00"), D("0.00"))
    assert PaymentRelease.objects.get().idempotency_ref == "api:rel-1"
    assert events("release.review_approved")[0][1]["status"] == "partially_released"
    proven(merchant)


def test_a_refused_release_leaves_the_money_in_escrow_and_the_payment_can_be_released_later():
    merchant, seller, payment, _held, review, _author, events = reviewed_release()
    review_refuse(review=review, actor=f.risk(), reason="buyer says not delivered")
    payment.refresh_from_db()
    assert payment.status == "held" and payment.held_amount == D("800.00")
    assert events("release.review_refused")[0][1]["reason"] == "buyer says not delivered"
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timezone.timedelta(days=2))
    assert release(payment).status == "released"
    proven(merchant)


# --- who may decide ------------------------------------------------------------------------

@pytest.mark.parametrize("decide", [review_approve, review_refuse])
def test_the_rule_s_author_may_not_decide_its_reviews(decide):
    _merchant, _buyer, _seller, _payment, review, author, _events = reviewed_payment()
    with pytest.raises(PermissionRefused):
        decide(review=review, actor=author, reason="mine")
    review.refresh_from_db()
    assert review.status == "open"


def test_whoever_last_changed_the_rule_may_not_decide_either():
    from risk.services.rules import outflow_rule_save

    _merchant, _buyer, _seller, _payment, review, _author, _events = reviewed_payment()
    editor = f.risk()
    outflow_rule_save(rule=review.rule, actor=editor)
    with pytest.raises(PermissionRefused):
        review_approve(review=review, actor=editor)


@pytest.mark.parametrize("who", [f.ops, f.rm, f.auditor])
@pytest.mark.parametrize("decide", [review_approve, review_refuse])
def test_other_roles_may_not_decide(who, decide):
    _merchant, _buyer, _seller, _payment, review, _author, _events = reviewed_payment()
    with pytest.raises(PermissionRefused):
        decide(review=review, actor=who(), reason="x")


def test_a_platform_or_a_job_may_not_decide():
    _merchant, _buyer, _seller, _payment, review, _author, _events = reviewed_payment()
    for actor in (Actor.platform("app"), Actor.system("beat"), None):
        with pytest.raises(PermissionRefused):
            review_approve(review=review, actor=actor)


def test_a_refusal_needs_a_reason_and_a_decided_review_can_t_be_decided_again():
    _merchant, _buyer, _seller, payment, review, _author, _events = reviewed_payment()
    with pytest.raises(ValidationFailed):
        review_refuse(review=review, actor=f.risk(), reason="  ")
    review_approve(review=review, actor=f.risk())
    with pytest.raises(InvalidState):
        review_refuse(review=review, actor=f.risk(), reason="too late")
    with pytest.raises(InvalidState):
        review_approve(review=review, actor=f.risk())


def test_a_frozen_payer_s_payment_can_only_be_refused():
    from merchants.services.members import member_freeze

    merchant, buyer, _seller, payment, review, _author, _events = reviewed_payment()
    member_freeze(member=buyer, actor=f.risk(), reason="court order")
    from core.errors import MemberFrozen

    with pytest.raises(MemberFrozen):
        review_approve(review=review, actor=f.risk())
    review_refuse(review=review, actor=f.risk(), reason="frozen")
    assert balances(buyer) == (D("5000.00"), D("0.00"))
    proven(merchant)


def test_each_decision_is_on_the_review_s_timeline_with_who_and_why():
    _merchant, _buyer, _seller, _payment, review, _author, _events = reviewed_payment()
    officer = f.risk()
    review_refuse(review=review, actor=officer, reason="fake order")
    events = list(timeline_for(review).order_by("id"))
    assert [(e.action, e.to_state) for e in events] == [("raise", "open"), ("refuse", "refused")]
    assert (events[1].actor_id, events[1].reason) == (officer.pk, "fake order")


def test_withdrawals_in_review_are_not_approved_by_operations_meanwhile():
    from ledger.services.withdrawals import withdrawal_approve

    _merchant, _member, withdrawal, _review, _author, _events = reviewed_withdrawal()
    with pytest.raises(InvalidState):
        withdrawal_approve(withdrawal=withdrawal, actor=f.ops())
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "in_review"


def test_an_auto_release_an_outflow_rule_holds_waits_in_the_queue_once():
    from ledger.services.releases import payments_auto_release_due

    # given a guaranteed payment past its auto-release time and a rule reviewing large releases
    merchant, buyer, seller = shop()
    payment = pay(buyer, seller, "1500.00", mode="guaranteed")
    rule(merchant, movement="release")
    Payment.objects.filter(pk=payment.pk).update(auto_release_at=timezone.now() - timezone.timedelta(minutes=1))
    # when the beat runs twice, then the release waits in the queue once and nothing moved
    assert payments_auto_release_due() == 0
    assert payments_auto_release_due() == 0
    review = RiskReview.objects.get(movement="release")
    assert review.request["amount"] is None and Payment.objects.get(pk=payment.pk).status == "held"
    # and approved, the whole remainder is released
    review_approve(review=review, actor=f.risk())
    assert Payment.objects.get(pk=payment.pk).status == "released"
    assert balances(seller) == (D("1500.00"), D("0.00"))
    proven(merchant)
