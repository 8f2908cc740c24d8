"""Outflow rules: kept by risk officers (audited), evaluated on every outflow the ledger offers.

Evaluation (registered in ledger.hooks by risk.apps): the active rules are read once per process
and kept for OUTFLOW_RULES_CACHE_SECONDS (default 30; a save in this process clears them at
commit), so a merchant no rule applies to costs the payment path no query at all (one when the
cache is cold). For the rules that apply to the merchant (its own, every merchant's; at or above
its computed risk level) and judge the movement:
- amount limit, new member, quick release: no query (the movement and its member are loaded);
- velocity count / sum: one aggregate over the member's movements of that kind in the last day
  (indexes payment_payer_recent_idx, withdrawal_member_recent_idx), counting and summing the hour
  and the day at once, shared by every velocity rule;
- new card: one EXISTS over the card's earlier withdrawals; new payers: one count per payee.
Velocity and new-payer rules lock the members they count for (SELECT … FOR UPDATE, in id order)
before counting, so concurrent movements of one member are counted one after the other and a
limit of N lets exactly N through. Each matching rule leaves a RuleHit; the strictest enforced
outcome decides (refuse, then review, then allow); observed hits decide nothing."""
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import InvalidState, ValidationFailed
from core.money import ZERO
from core.permissions import require
from ledger import outflows
from ledger.models import Payment, PaymentRelease, PaymentSplit, Withdrawal
from merchants.models import Member

from ..models import (
    KIND_MOVEMENTS,
    KIND_PARAMETERS,
    Mode,
    Movement,
    Outcome,
    OutflowRule,
    RiskReview,
    RuleHit,
    RuleKind,
    Window,
)

_SEVERITY = {Outcome.ALLOW: 0, Outcome.REVIEW: 1, Outcome.REFUSE: 2}
_WINDOW = {Window.HOUR: timedelta(hours=1), Window.DAY: timedelta(days=1)}
_cache = {"until": 0.0, "rules": None}
RULE_FIELDS = ("name", "merchant", "min_risk_level", "movement", "kind", "amount", "count", "window", "days",
               "hours", "outcome", "mode", "active", "description")


# --- the rules ---------------------------------------------------------------------------

def active_rules() -> list[OutflowRule]:
    now = time.monotonic()
    if _cache["rules"] is None or now >= _cache["until"]:
        _cache["rules"] = list(OutflowRule.objects.filter(active=True).order_by("id"))
        _cache["until"] = now + float(settings.JIANGUAN.get("OUTFLOW_RULES_CACHE_SECONDS", 30))
    return _cache["rules"]


def rules_cache_clear(**_signal) -> None:
    _cache["rules"] = None


def rules_cache_prime(rules: list) -> None:
    """Set the cache (tests: a fresh database has no rules)."""
    _cache["rules"], _cache["until"] = list(rules), float("inf")


def outflow_rule_check(rule: OutflowRule) -> None:
    """Refuse a rule that can't be evaluated: its condition's parameters, and a movement it can judge."""
    missing = [name for name in KIND_PARAMETERS.get(rule.kind, ()) if getattr(rule, name) in (None, "")]
    if missing:
        raise ValidationFailed(_("This condition needs: %(fields)s.")
                               % {"fields": ", ".join(str(OutflowRule._meta.get_field(n).verbose_name)
                                                      for n in missing)}, field=missing[0])
    allowed = KIND_MOVEMENTS.get(rule.kind)
    if allowed and rule.movement and rule.movement not in allowed:
        raise ValidationFailed(_("This condition judges only: %(movements)s.")
                               % {"movements": ", ".join(str(Movement(m).label) for m in allowed)},
                               field="movement")
    if not (rule.name or "").strip():
        raise ValidationFailed(_("A name is required."), field="name")


@transaction.atomic
def outflow_rule_save(*, rule: OutflowRule, actor) -> OutflowRule:
    """Create or change a rule (risk officers); audited with every field, who and when."""
    actor = require(actor, "risk.change_outflowrule" if rule.pk else "risk.add_outflowrule")
    outflow_rule_check(rule)
    before = None
    if rule.pk:
        before = OutflowRule.objects.select_for_update().get(pk=rule.pk)
    else:
        rule.created_by = actor.user
    rule.updated_by = actor.user
    rule.updated_at = timezone.now()
    rule.save()
    data = {name: str(getattr(rule, f"{name}_id" if name == "merchant" else name) or "") for name in RULE_FIELDS}
    if before is not None:
        data = {name: [str(getattr(before, f"{name}_id" if name == "merchant" else name) or ""), value]
                for name, value in data.items()
                if str(getattr(before, f"{name}_id" if name == "merchant" else name) or "") != value}
    audit_record(actor=actor, obj=rule, action="change" if before is not None else "create",
                 to_state=f"{rule.mode}/{rule.outcome}" if rule.active else "inactive", data=data,
                 merchant_id=rule.merchant_id)
    transaction.on_commit(rules_cache_clear)
    return rule


# --- evaluation (ledger.hooks) -------------------------------------------------------------

def outflow_scope(merchant) -> bool:
    return any(rule.applies_to(merchant) for rule in active_rules())


class _Facts:
    """What the rules ask of the books, each read at most once per movement."""

    def __init__(self, outflow):
        self.outflow = outflow
        self.now = timezone.now()
        self._velocity = {}

    def velocity(self, window: str) -> tuple[int, object]:
        """(count, sum) of the member's earlier movements of this kind in the window: one aggregate
        for every window at once, read the first time a rule asks."""
        if not self._velocity:
            o = self.outflow
            since = {w: self.now - span for w, span in _WINDOW.items()}
            if o.kind == outflows.PAYMENT:
                qs = Payment.objects.filter(payer_id=o.member.pk).exclude(status=Payment.Status.REFUSED)
                if o.payment is not None:
                    qs = qs.exclude(pk=o.payment.pk)
            elif o.kind == outflows.WITHDRAWAL:
                qs = Withdrawal.objects.filter(member_id=o.member.pk).exclude(
                    status__in=(Withdrawal.Status.REJECTED, Withdrawal.Status.FAILED))
            else:
                qs = PaymentRelease.objects.filter(payment__payer_id=o.member.pk)
            row = qs.filter(created_at__gte=min(since.values())).aggregate(**{
                key: agg for w, start in since.items() for key, agg in (
                    (f"n_{w}", Count("id", filter=Q(created_at__gte=start))),
                    (f"sum_{w}", Sum("amount", filter=Q(created_at__gte=start))))})
            self._velocity = {w: (row[f"n_{w}"], row[f"sum_{w}"] or ZERO) for w in _WINDOW}
        return self._velocity[window]

    def new_payers(self, payee, rule) -> int:
        since, born = self.now - _WINDOW[rule.window], self.now - timedelta(days=rule.days)
        payers = set(PaymentSplit.objects.filter(
            payee_id=payee.pk, payment__created_at__gte=since, payment__payer__created_at__gte=born).exclude(
            payment__status=Payment.Status.REFUSED).values_list("payment__payer_id", flat=True).distinct())
        if self.outflow.member.created_at >= born:
            payers.add(self.outflow.member.pk)
        return len(payers)


def _why(rule: OutflowRule, facts: _Facts) -> str:
    """Why the rule matches this movement, or "" when it does not."""
    o, kind = facts.outflow, rule.kind
    if kind == RuleKind.AMOUNT_LIMIT:
        return _("amount %(amount)s above %(limit)s") % {"amount": o.amount, "limit": rule.amount} \
            if o.amount > rule.amount else ""
    if kind == RuleKind.VELOCITY_COUNT:
        n, _total = facts.velocity(rule.window)
        return _("%(n)s earlier in the window, at most %(count)s") % {"n": n, "count": rule.count} \
            if n + 1 > rule.count else ""
    if kind == RuleKind.VELOCITY_SUM:
        _n, total = facts.velocity(rule.window)
        return _("%(total)s earlier in the window + %(amount)s above %(limit)s") % {
            "total": total, "amount": o.amount, "limit": rule.amount} if total + o.amount > rule.amount else ""
    if kind == RuleKind.NEW_MEMBER:
        if o.member.created_at >= facts.now - timedelta(days=rule.days) and o.amount > rule.amount:
            return _("member joined less than %(days)s days ago; amount %(amount)s above %(limit)s") % {
                "days": rule.days, "amount": o.amount, "limit": rule.amount}
        return ""
    if kind == RuleKind.NEW_CARD:
        card = o.bank_card
        if rule.days and card.created_at < facts.now - timedelta(days=rule.days):
            return ""
        used = Withdrawal.objects.filter(bank_card_id=card.pk).exclude(status=Withdrawal.Status.REJECTED).exists()
        return "" if used else _("first withdrawal to card %(card)s") % {"card": card.masked_number}
    if kind == RuleKind.QUICK_RELEASE:
        held_for = facts.now - o.payment.created_at
        if held_for < timedelta(hours=rule.hours):
            return _("released %(minutes)s minutes after the payment, sooner than %(hours)s hours") % {
                "minutes": int(held_for.total_seconds() // 60), "hours": rule.hours}
        return ""
    if kind == RuleKind.NEW_PAYERS:
        for payee in o.payees:
            n = facts.new_payers(payee, rule)
            if n >= rule.count:
                return _("payee %(user_id)s paid by %(n)s new members in the window") % {
                    "user_id": payee.user_id, "n": n}
    return ""


_LOCKING = (RuleKind.VELOCITY_COUNT, RuleKind.VELOCITY_SUM, RuleKind.NEW_PAYERS)


def _lock_members(rules, outflow) -> None:
    ids = set()
    for rule in rules:
        if rule.kind in (RuleKind.VELOCITY_COUNT, RuleKind.VELOCITY_SUM):
            ids.add(outflow.member.pk)
        elif rule.kind == RuleKind.NEW_PAYERS:
            ids |= {p.pk for p in outflow.payees}
    if ids:
        list(Member.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk").values_list("pk"))


def _open_release_review(outflow):
    """A release of a payment whose earlier release waits in the queue: the same request (its
    reference) is that review again; another is refused until the first is decided."""
    review = (RiskReview.objects.filter(movement=Movement.RELEASE, payment_id=outflow.payment.pk,
                                        status=RiskReview.Status.OPEN).select_related("rule").first())
    if review is None:
        return None
    ref = outflow.request.get("idempotency_ref")
    if ref and review.request.get("idempotency_ref") == ref:
        return outflows.Decision(outflows.REVIEW, rule=review.rule.name, detail=review.detail,
                                 data={"existing": review})
    raise InvalidState(_("A release of this payment is waiting in the risk queue; it can be released again "
                         "once the review is decided."))


def outflow_check(outflow) -> outflows.Decision | None:
    """The rules' decision on one outflow (see the module docstring)."""
    if outflow.kind == outflows.RELEASE:
        pending = _open_release_review(outflow)
        if pending is not None:
            return pending
    rules = [r for r in active_rules() if r.applies_to(outflow.merchant) and r.judges(outflow.kind)]
    if not rules:
        return None
    _lock_members([r for r in rules if r.kind in _LOCKING], outflow)
    facts = _Facts(outflow)
    with translation.override(settings.LANGUAGE_CODE):  # the why is kept in the bank's language
        hits = [(rule, str(why)) for rule in rules if (why := _why(rule, facts))]
    if not hits:
        return None
    enforced = [(rule, why) for rule, why in hits if rule.mode == Mode.ENFORCE]
    deciding = max(enforced, key=lambda hit: _SEVERITY[hit[0].outcome]) if enforced else None
    outcome = deciding[0].outcome if deciding else Outcome.ALLOW

    def record(outflow, ticket):
        RuleHit.objects.bulk_create([RuleHit(
            rule=rule, merchant_id=outflow.merchant.pk, member_id=outflow.member.pk, movement=outflow.kind,
            amount=outflow.amount, order_no=outflow.order_no[:64], outcome=rule.outcome, mode=rule.mode,
            applied=deciding is not None and rule.pk == deciding[0].pk, detail=str(why)[:255],
            payment_id=getattr(outflow.payment, "pk", None), withdrawal_id=getattr(outflow.withdrawal, "pk", None),
            review_id=ticket.id if ticket is not None and deciding is not None and rule.pk == deciding[0].pk
            else None) for rule, why in hits])

    return outflows.Decision(outcome, rule=deciding[0].name if deciding else "",
                             detail=str(deciding[1]) if deciding else "", record=record,
                             data={"rule": deciding[0] if deciding else None})


def rule_hits_in_window(merchant, start, end) -> int:
    """Enforced refusals and reviews of the merchant's movements booked in [start, end] (risk.level)."""
    return RuleHit.objects.filter(
        Q(outcome=Outcome.REFUSE) | Q(outcome=Outcome.REVIEW), merchant_id=merchant.pk, mode=Mode.ENFORCE,
        applied=True, created_at__date__gte=start, created_at__date__lte=end).count()
