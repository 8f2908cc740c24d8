"""The risk queue: movements an outflow rule put in review, decided by a risk officer.

`review_open` is the ledger's queue (ledger.hooks.outflow_reviews): called in the movement's
booking transaction once its money is held, it opens the RiskReview, audits it and tells the
platform (`payment.review`, `withdrawal.review`, `release.review`). `review_approve` and
`review_refuse` are the officer's buttons: a risk officer (risk.decide_riskreview) who did not
write or last change the rule that raised it (maker-checker, on the model's transitions); the
ledger then books the outcome (ledger.services.reviews) and the platform hears
`<movement>.review_approved` or `<movement>.review_refused` with the reason. A refusal needs a
reason; everything is audited on the review's timeline."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import ValidationFailed
from core.permissions import require
from core.workflow import transition
from ledger import outflows
from ledger.services import reviews as ledger_reviews
from merchants.services import events

from ..models import DECIDE_PERMISSION, Movement, RiskReview

PEOPLE_DECIDE = _("Only a risk officer may decide a movement in the risk queue.")


def _payload(review: RiskReview, **extra) -> dict:
    data = {"review_id": review.pk, "movement": review.movement, "order_no": review.order_no,
            "user_id": review.member.user_id, "amount": str(review.amount), "review_status": review.status,
            "payment_id": review.payment_id, "withdrawal_id": review.withdrawal_id}
    return {**data, **extra}


def review_open(outflow, decision) -> outflows.ReviewTicket:
    """Queue a movement in review (a step of the ledger's booking; see the module docstring)."""
    existing = decision.data.get("existing")
    if existing is not None:  # the same release request again
        return outflows.ReviewTicket(id=existing.pk, kind=existing.movement, rule=existing.rule.name, created=False)
    rule = decision.data["rule"]
    review = RiskReview.objects.create(
        merchant_id=outflow.merchant.pk, movement=outflow.kind, member=outflow.member, amount=outflow.amount,
        order_no=outflow.order_no[:64], payment=outflow.payment, withdrawal=outflow.withdrawal,
        request=outflow.request, rule=rule, detail=str(decision.detail)[:255])

    audit_record(actor=None, obj=review, action="raise", to_state=review.status, reason=str(decision.detail),
                 data={"rule": rule.name, "rule_id": rule.pk, "movement": outflow.kind, "amount": str(outflow.amount),
                       "order_no": outflow.order_no})
    events.emit(outflow.merchant, f"{outflow.kind}.review", _payload(review, rule=rule.name, status="in_review"))
    return outflows.ReviewTicket(id=review.pk, kind=review.movement, rule=rule.name)


def _locked(review) -> RiskReview:
    return (RiskReview.objects.select_for_update(of=("self",), no_key=True)
            .select_related("merchant", "member", "rule", "payment", "withdrawal").get(pk=review.pk))


@transaction.atomic
def review_approve(*, review: RiskReview, actor, reason: str = "") -> RiskReview:
    """Pass the movement: it books as it would have without the rule."""
    actor = require(actor, DECIDE_PERMISSION, message=PEOPLE_DECIDE)
    review = _locked(review)
    review.decided_by, review.decided_at, review.reason = actor.user, timezone.now(), (reason or "").strip()
    transition(review, "approve", actor=actor, reason=reason)
    if review.movement == Movement.PAYMENT:
        moved = ledger_reviews.payment_review_pass(payment=review.payment, actor=actor, reason=reason)
        extra = {"status": moved.status}
    elif review.movement == Movement.WITHDRAWAL:
        moved = ledger_reviews.withdrawal_review_pass(withdrawal=review.withdrawal, actor=actor, reason=reason)
        extra = {"status": moved.status}
    else:
        moved = ledger_reviews.release_review_pass(payment=review.payment, actor=actor, request=review.request,
                                                   reason=reason)
        extra = {"status": moved.status, "released_amount": str(moved.released_amount)}
    events.emit(review.merchant, f"{review.movement}.review_approved",
                _payload(review, reason=review.reason, **extra))
    return review


@transaction.atomic
def review_refuse(*, review: RiskReview, actor, reason: str) -> RiskReview:
    """Refuse the movement with a reason: a payment's money returns to the payer's available
    balance (refused), a withdrawal is rejected with its money back, a release books nothing."""
    actor = require(actor, DECIDE_PERMISSION, message=PEOPLE_DECIDE)
    if not (reason or "").strip():
        raise ValidationFailed(_("A reason is required."), field="reason")
    review = _locked(review)
    review.decided_by, review.decided_at, review.reason = actor.user, timezone.now(), reason.strip()
    transition(review, "refuse", actor=actor, reason=reason, reason_required=True)
    extra = {}
    if review.movement == Movement.PAYMENT:
        extra["status"] = ledger_reviews.payment_review_refuse(payment=review.payment, actor=actor,
                                                                reason=reason).status
    elif review.movement == Movement.WITHDRAWAL:
        extra["status"] = ledger_reviews.withdrawal_review_refuse(withdrawal=review.withdrawal, actor=actor,
                                                                   reason=reason).status
    events.emit(review.merchant, f"{review.movement}.review_refused",
                _payload(review, reason=review.reason, **extra))
    return review
