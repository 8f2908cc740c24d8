"""The risk reserve (风险保证金): the risk office's three decisions, each requested by one risk officer
and approved by a second (never the requester: the transitions' permission), audited at every step.

- Policy: what the merchant must hold. An approved policy supersedes the one in force and sets
  Merchant.risk_reserve_required (merchants.services.risk_level); a percentage policy is recomputed
  daily from the books (reserve_requirements_refresh_all, beat) as percent × the customers' money in
  over the last 30 days (ledger.selectors.customer_inflows), never less than its minimum.
- Compensation: a wronged member of the platform paid from the reserve, with the order it concerns
  (an order of that member in the books) and a reason. On approval the reserve pays first; only what
  it lacks comes from the platform's fee income, and only if the request said so — otherwise the
  approval is refused while the reserve is short (ledger.services.reserve). A `reserve.compensation_paid`
  event tells the platform.
- Release: when the merchant is closing, its last end of day is clean (balanced, nothing open in
  reconciliation: reconciliation.selectors.close_blockers, the same check the close runs) and covers
  its last booking, and every other balance is zero, the whole reserve leaves for the platform's own
  account; the merchant can then close. A `reserve.released` event tells the platform.

Funding is no decision here: the platform (or staff for it) announces a reserve deposit and the bank
side proves it (ledger.services.deposits.reserve_deposit_announce)."""
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import InvalidState, OrderMismatch, ValidationFailed
from core.money import ZERO, format_amount, parse_amount, quantize
from core.permissions import require
from core.workflow import transition
from ledger.calendar import business_date_for
from ledger.models import AccountKind, JournalEntry
from ledger.selectors import account_balances, customer_inflows
from ledger.services import reserve as reserve_books
from merchants.models import Member, Merchant
from merchants.services import events
from merchants.services.risk_level import merchant_reserve_required_set
from reconciliation.models import EodRun
from reconciliation.selectors import close_blockers as reconciliation_close_blockers

from ..models import (
    RESERVE_WINDOW_DAYS,
    ReserveCompensation,
    ReservePolicy,
    ReserveRelease,
)

LIVE = (Merchant.Status.ACTIVE, Merchant.Status.FROZEN, Merchant.Status.CLOSING)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("A reason is required."), field="reason")
    return reason


def _locked(model, pk):
    return model.objects.select_for_update(of=("self",), no_key=True).select_related("merchant").get(pk=pk)


def _decided(obj, actor, reason):
    obj.decided_by_id, obj.decided_at, obj.decision_reason = actor.user_id, timezone.now(), (reason or "").strip()


# --- policy ------------------------------------------------------------------------------------

def reserve_required_for(policy: ReservePolicy, *, as_of: date) -> Decimal:
    """The amount a policy requires on `as_of`: its amount, or percent × the inflows of the
    RESERVE_WINDOW_DAYS days ending then (half up to the cent), never less than its minimum."""
    if policy.basis == ReservePolicy.Basis.AMOUNT:
        return quantize(policy.amount)
    start = as_of - timedelta(days=RESERVE_WINDOW_DAYS - 1)
    inflows = customer_inflows(policy.merchant, start, as_of)
    share = (inflows * policy.percent / Decimal(100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return max(share, quantize(policy.minimum or ZERO))


def policy_in_force(merchant) -> ReservePolicy | None:
    return ReservePolicy.objects.filter(merchant_id=merchant.pk, status=ReservePolicy.Status.IN_FORCE).first()


@transaction.atomic
def reserve_policy_request(*, merchant, actor, basis: str, reason: str, amount=None, percent=None,
                           minimum=None) -> ReservePolicy:
    """A risk officer asks for a merchant's required reserve; nothing changes until a second approves."""
    actor = require(actor, "risk.request_reservepolicy")
    reason = _reason(reason)
    merchant = Merchant.objects.get(pk=merchant.pk)
    if merchant.status not in LIVE:
        raise InvalidState(_("The merchant holds no money: a reserve can be required only of a live merchant."))
    policy = ReservePolicy(merchant=merchant, basis=basis, reason=reason, requested_by_id=actor.user_id)
    if basis == ReservePolicy.Basis.AMOUNT:
        policy.amount = parse_amount(amount if amount not in (None, "") else "0", field="amount", allow_zero=True)
    elif basis == ReservePolicy.Basis.PERCENT:
        try:
            policy.percent = Decimal(str(percent)).quantize(Decimal("0.01"))
        except (ArithmeticError, ValueError, TypeError):
            raise ValidationFailed(_("A percentage such as 5.00 is required."), field="percent") from None
        if not (Decimal(0) < policy.percent <= Decimal(100)):
            raise ValidationFailed(_("The percentage must be above 0 and at most 100."), field="percent")
        policy.minimum = parse_amount(minimum if minimum not in (None, "") else "0", field="minimum",
                                      allow_zero=True)
    else:
        raise ValidationFailed(_("Choose a fixed amount or a percentage."), field="basis")
    try:
        with transaction.atomic():
            policy.save(force_insert=True)
    except IntegrityError:
        raise InvalidState(_("A policy for this merchant is already awaiting approval.")) from None
    audit_record(actor=actor, obj=policy, action="request", merchant_id=merchant.pk, to_state=policy.status,
                 reason=reason, data={"basis": basis, "amount": policy.amount, "percent": policy.percent,
                                      "minimum": policy.minimum})
    return policy


@transaction.atomic
def reserve_policy_approve(*, policy: ReservePolicy, actor, reason: str = "") -> ReservePolicy:
    """A second risk officer puts the policy in force: the one before is superseded, and the merchant's
    required reserve becomes what the new one requires today."""
    actor = require(actor, message=_("Only bank staff may approve a reserve policy."))
    policy = _locked(ReservePolicy, policy.pk)
    Merchant.objects.select_for_update(no_key=True).get(pk=policy.merchant_id)  # one approval at a time
    current = policy_in_force(policy.merchant)
    if current is not None and policy.status == ReservePolicy.Status.REQUESTED:
        transition(current, "supersede", actor=actor, reason=_("Superseded by policy #%(id)s.") % {"id": policy.pk},
                   data={"by": policy.pk})
    _decided(policy, actor, reason)
    required = reserve_required_for(policy, as_of=business_date_for())
    policy.required_at_approval = required
    transition(policy, "approve", actor=actor, reason=reason, data={"required": required})
    merchant_reserve_required_set(merchant=policy.merchant, amount=required, actor=actor,
                                  reason=f"reserve policy #{policy.pk}", data={"policy": policy.pk})
    return policy


@transaction.atomic
def reserve_policy_reject(*, policy: ReservePolicy, actor, reason: str) -> ReservePolicy:
    actor = require(actor, message=_("Only bank staff may reject a reserve policy."))
    policy = _locked(ReservePolicy, policy.pk)
    _decided(policy, actor, reason)
    return transition(policy, "reject", actor=actor, reason=reason, reason_required=True)


@transaction.atomic
def reserve_requirement_refresh(*, merchant, actor=None, as_of: date | None = None) -> Decimal:
    """Recompute what the policy in force requires (a percentage moves with the inflows) and write it
    to the merchant (audited only when it changes). Without a policy: unchanged."""
    merchant = Merchant.objects.select_for_update(no_key=True).get(pk=merchant.pk)
    policy = policy_in_force(merchant)
    if policy is None:
        return merchant.risk_reserve_required
    required = reserve_required_for(policy, as_of=as_of or business_date_for())
    merchant_reserve_required_set(merchant=merchant, amount=required, actor=actor,
                                  reason=f"reserve policy #{policy.pk} recomputed",
                                  data={"policy": policy.pk, "basis": policy.basis})
    return required


def reserve_requirements_refresh_all(*, actor=None, as_of: date | None = None) -> int:
    """The daily recomputation of every live merchant's percentage policy, each in its own transaction."""
    ids = (ReservePolicy.objects.filter(status=ReservePolicy.Status.IN_FORCE, basis=ReservePolicy.Basis.PERCENT,
                                        merchant__status__in=LIVE).order_by("merchant_id")
           .values_list("merchant_id", flat=True))
    merchants = Merchant.objects.filter(pk__in=list(ids)).order_by("pk")
    return sum(1 for merchant in merchants if reserve_requirement_refresh(merchant=merchant, actor=actor, as_of=as_of)
               is not None)


# --- compensation --------------------------------------------------------------------------------

def _ensure_order_of(merchant, member, order_no: str) -> None:
    """The order must be one of the member's in the books (they paid or were paid in it)."""
    if not JournalEntry.objects.filter(merchant_id=merchant.pk, order_no=order_no).filter(
            Q(payer_id=member.pk) | Q(payee_id=member.pk)).exists():
        raise OrderMismatch(_("Order %(order)s is not an order of this member in the books.") % {"order": order_no},
                            field="order_no")


@transaction.atomic
def reserve_compensation_request(*, merchant, actor, member, amount, order_no: str, reason: str,
                                 platform_may_pay: bool = False) -> ReserveCompensation:
    """A risk officer asks to pay a wronged member from the reserve; nothing moves until a second approves."""
    actor = require(actor, "risk.request_reservecompensation")
    reason = _reason(reason)
    amount = parse_amount(amount)
    order_no = (order_no or "").strip()
    if not order_no or len(order_no) > 64:
        raise ValidationFailed(_("An order number of 1 to 64 characters is required."), field="order_no")
    if member.merchant_id != merchant.pk:
        raise ValidationFailed(_("The member belongs to another merchant."), field="member")
    if member.status == Member.Status.CLOSED:
        raise InvalidState(_("The member is closed and can't receive money."))
    _ensure_order_of(merchant, member, order_no)
    compensation = ReserveCompensation.objects.create(
        merchant=merchant, member=member, amount=amount, order_no=order_no, reason=reason,
        platform_may_pay=bool(platform_may_pay), requested_by_id=actor.user_id)
    audit_record(actor=actor, obj=compensation, action="request", merchant_id=merchant.pk,
                 to_state=compensation.status, reason=reason,
                 data={"user_id": member.user_id, "amount": amount, "order_no": order_no,
                       "platform_may_pay": compensation.platform_may_pay})
    return compensation


@transaction.atomic
def reserve_compensation_approve(*, compensation: ReserveCompensation, actor, reason: str = "") -> ReserveCompensation:
    """A second risk officer approves: the member is paid (reserve first), the platform is told."""
    actor = require(actor, message=_("Only bank staff may approve a compensation."))
    c = (ReserveCompensation.objects.select_for_update(of=("self",), no_key=True)
         .select_related("merchant", "member").get(pk=compensation.pk))
    _decided(c, actor, reason)
    transition(c, "approve", actor=actor, reason=reason, data={"amount": c.amount, "order_no": c.order_no})
    booked = reserve_books.reserve_compensation_book(
        merchant=c.merchant, member=c.member, amount=c.amount, order_no=c.order_no, reason=c.reason[:255],
        reference=str(c.pk), actor=actor, platform_may_pay=c.platform_may_pay)
    c.entry, c.reserve_part, c.platform_part = booked.entry, booked.reserve_part, booked.platform_part
    c.save(update_fields=["entry", "reserve_part", "platform_part"])
    events.emit(c.merchant, "reserve.compensation_paid", {
        "id": c.pk, "user_id": c.member.user_id, "order_no": c.order_no, "amount": format_amount(c.amount),
        "from_reserve": format_amount(c.reserve_part), "from_platform": format_amount(c.platform_part),
        "reason": c.reason})
    return c


@transaction.atomic
def reserve_compensation_reject(*, compensation: ReserveCompensation, actor, reason: str) -> ReserveCompensation:
    actor = require(actor, message=_("Only bank staff may reject a compensation."))
    c = _locked(ReserveCompensation, compensation.pk)
    _decided(c, actor, reason)
    return transition(c, "reject", actor=actor, reason=reason, reason_required=True)


# --- release ----------------------------------------------------------------------------------------

def release_blockers(merchant) -> list:
    """Why the reserve can't be released now (empty: it may): the merchant must be closing, its last end
    of day clean (reconciliation's close check) and covering its last booking, and every balance but
    the reserve's at zero (the reserve is the last money to leave)."""
    problems = []
    if merchant.status != Merchant.Status.CLOSING:
        problems.append(_("the merchant is not closing"))
    last = EodRun.objects.filter(merchant_id=merchant.pk).order_by("-business_date").first()
    if last is None:
        problems.append(_("no end of day has been run"))
    else:
        problems += reconciliation_close_blockers(merchant)
        booked_until = JournalEntry.objects.filter(merchant_id=merchant.pk).aggregate(d=Max("business_date"))["d"]
        if last.status == EodRun.Status.BALANCED and booked_until and booked_until > last.business_date:
            problems.append(_("money moved after the last end of day (%(date)s): run the end of day first")
                            % {"date": last.business_date})
    balances = account_balances(merchant)
    others = {kind: amount for kind, amount in balances.items()
              if amount and kind not in (AccountKind.SUPERVISION, AccountKind.RISK_RESERVE)}
    if others:
        problems.append(_("other accounts still hold money (%(kinds)s): pay them out first")
                        % {"kinds": ", ".join(str(AccountKind(k).label) for k in sorted(others))})
    return problems


@transaction.atomic
def reserve_release_request(*, merchant, actor, payee_account_name: str, payee_account_number: str, reason: str,
                            payee_bank: str = "") -> ReserveRelease:
    actor = require(actor, "risk.request_reserverelease")
    reason = _reason(reason)
    if not (payee_account_name or "").strip():
        raise ValidationFailed(_("The platform's account name is required."), field="payee_account_name")
    if not (payee_account_number or "").strip():
        raise ValidationFailed(_("The platform's account number is required."), field="payee_account_number")
    merchant = Merchant.objects.get(pk=merchant.pk)
    if merchant.status != Merchant.Status.CLOSING:
        raise InvalidState(_("The reserve is released only when the merchant is closing."))
    release = ReserveRelease(merchant=merchant, payee_account_name=payee_account_name.strip()[:200],
                             payee_account_number=payee_account_number.strip()[:40],
                             payee_bank=(payee_bank or "").strip()[:200], reason=reason,
                             requested_by_id=actor.user_id)
    try:
        with transaction.atomic():
            release.save(force_insert=True)
    except IntegrityError:
        raise InvalidState(_("The reserve's release is already requested or done.")) from None
    audit_record(actor=actor, obj=release, action="request", merchant_id=merchant.pk, to_state=release.status,
                 reason=reason, data={"payee_account_name": release.payee_account_name})
    return release


@transaction.atomic
def reserve_release_approve(*, release: ReserveRelease, actor, reason: str = "") -> ReserveRelease:
    """A second risk officer releases the whole reserve to the platform's account, if nothing holds it."""
    actor = require(actor, message=_("Only bank staff may approve a reserve release."))
    r = _locked(ReserveRelease, release.pk)
    merchant = Merchant.objects.select_for_update(no_key=True).get(pk=r.merchant_id)
    problems = release_blockers(merchant)
    if problems:
        raise InvalidState(_("The reserve can't be released yet: %(problems)s.")
                           % {"problems": "; ".join(str(p) for p in problems)})
    _decided(r, actor, reason)
    transition(r, "approve", actor=actor, reason=reason)
    entry = reserve_books.reserve_release_book(
        merchant=merchant, reference=str(r.pk), actor=actor,
        description=f"{r.payee_account_name} {r.payee_account_number}"[:255])
    r.entry, r.amount = entry, entry.order_amount if entry is not None else ZERO
    r.save(update_fields=["entry", "amount"])
    events.emit(merchant, "reserve.released", {
        "id": r.pk, "amount": format_amount(r.amount), "payee_account_name": r.payee_account_name})
    return r


@transaction.atomic
def reserve_release_reject(*, release: ReserveRelease, actor, reason: str) -> ReserveRelease:
    actor = require(actor, message=_("Only bank staff may reject a reserve release."))
    r = _locked(ReserveRelease, release.pk)
    _decided(r, actor, reason)
    return transition(r, "reject", actor=actor, reason=reason, reason_required=True)
