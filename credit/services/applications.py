"""Credit applications: draft → submitted → rm_reviewed → approved | rejected.

The RM prepares (create/update in draft) and submits; the score is taken at submission, on
that business date, and stays on the application as the approver saw it. A risk officer who
did not prepare it reviews; a risk officer who did not prepare it approves. Above
JIANGUAN["CREDIT_SECOND_APPROVAL_ABOVE"] the first approval is recorded and the application
waits, still `rm_reviewed`, for a second risk officer who is neither the preparer nor the
first approver. The final approval opens the line (new line) or applies the new limit and
terms to the existing line (limit change) in the same transaction."""
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import Duplicate, InvalidState, NotFound, ValidationFailed
from core.money import parse_amount
from core.permissions import require
from core.workflow import transition
from ledger import guards
from ledger.calendar import business_date_for
from merchants.models import Member
from merchants.selectors import merchants_visible_to

from ..models import CreditApplication, CreditLine
from ..scoring import score_member
from .common import parse_grace, parse_rate, parse_term

EDITABLE_FIELDS = ("proposed_limit", "term_days", "grace_days", "penalty_rate", "creditor_is_platform",
                   "creditor_member", "purpose")


def _locked(application) -> CreditApplication:
    return (CreditApplication.objects.select_for_update(of=("self",), no_key=True).select_related("merchant", "member", "line")
            .get(pk=application.pk))


def _open_line(merchant, member):
    return CreditLine.objects.filter(merchant=merchant, member=member).exclude(status=CreditLine.Status.CLOSED).first()


def validate_application(*, merchant, member, kind=CreditApplication.Kind.NEW_LINE, line=None, proposed_limit,
                         term_days, grace_days=0, penalty_rate, creditor_is_platform=False, creditor_member=None,
                         user=None) -> dict:
    """Check an application's content; returns the cleaned fields. Shared by the services and
    the admin form (which shows these errors next to the fields)."""
    if user is not None and not merchants_visible_to(user).filter(pk=merchant.pk).exists():
        raise NotFound(_("No such merchant in your portfolio."))
    guards.ensure_merchant_can_move_money(merchant)
    guards.ensure_member_of(merchant, member)
    if not member.is_buyer:
        raise ValidationFailed(_("Credit is granted to buyers only."), field="member")
    guards.ensure_member_can_pay(member)
    if kind not in CreditApplication.Kind.values:
        raise ValidationFailed(_("Unknown kind of application."), field="kind")
    cleaned = {
        "kind": kind,
        "proposed_limit": parse_amount(proposed_limit, field="proposed_limit"),
        "term_days": parse_term(term_days),
        "grace_days": parse_grace(grace_days),
        "penalty_rate": parse_rate(penalty_rate),
    }
    if kind == CreditApplication.Kind.LIMIT_CHANGE:
        if line is None:
            raise ValidationFailed(_("Name the credit line to change."), field="line")
        line = CreditLine.objects.select_related("creditor_member").get(pk=line.pk)  # `used` as it is now
        if line.merchant_id != merchant.pk or line.member_id != member.pk:
            raise ValidationFailed(_("The line belongs to another member."), field="line")
        if line.status == CreditLine.Status.CLOSED:
            raise InvalidState(_("A closed line can't be changed; apply for a new line."))
        if cleaned["proposed_limit"] < line.used:
            raise ValidationFailed(_("The new limit can't be below what is drawn now (%(used)s).")
                                   % {"used": line.used}, field="proposed_limit")
        # The creditor of a line never changes: its bills are that creditor's receivables.
        cleaned.update(line=line, creditor_is_platform=line.creditor_is_platform,
                       creditor_member=line.creditor_member)
        return cleaned
    if line is not None:
        raise ValidationFailed(_("A new-line application names no existing line."), field="line")
    if _open_line(merchant, member) is not None:
        raise Duplicate(_("The member already has a credit line: apply for a limit change instead."),
                        field="member")
    if bool(creditor_is_platform) == (creditor_member is not None):
        raise ValidationFailed(_("Name one creditor: the platform, or a seller member."), field="creditor_member")
    if creditor_member is not None:
        guards.ensure_member_of(merchant, creditor_member)
        if not creditor_member.is_seller:
            raise ValidationFailed(_("The creditor must be a seller of the platform."), field="creditor_member")
        if creditor_member.pk == member.pk:
            raise ValidationFailed(_("A buyer can't be their own creditor."), field="creditor_member")
        if creditor_member.status == Member.Status.CLOSED:
            raise InvalidState(_("The creditor is closed."))
    cleaned.update(line=None, creditor_is_platform=bool(creditor_is_platform), creditor_member=creditor_member)
    return cleaned


@transaction.atomic
def credit_application_create(*, merchant, actor, member, proposed_limit, term_days, penalty_rate, grace_days=0,
                              kind=CreditApplication.Kind.NEW_LINE, line=None, creditor_is_platform=False,
                              creditor_member=None, purpose: str = "") -> CreditApplication:
    actor = require(actor, "credit.add_creditapplication", message=_("You may not prepare credit applications."))
    cleaned = validate_application(
        merchant=merchant, member=member, kind=kind, line=line, proposed_limit=proposed_limit, term_days=term_days,
        grace_days=grace_days, penalty_rate=penalty_rate, creditor_is_platform=creditor_is_platform,
        creditor_member=creditor_member, user=actor.user)
    application = CreditApplication.objects.create(merchant=merchant, member=member, prepared_by=actor.user,
                                                   purpose=(purpose or "").strip(), **cleaned)
    audit_record(actor=actor, obj=application, action="create", to_state=application.status,
                 data={"kind": kind, "proposed_limit": cleaned["proposed_limit"]})
    return application


@transaction.atomic
def credit_application_update(*, application, actor, **fields) -> CreditApplication:
    """Change a draft (the RM's working copy). Member, merchant and kind are fixed."""
    actor = require(actor, "credit.change_creditapplication", message=_("You may not change credit applications."))
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(_("These fields can't be changed: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    application = _locked(application)
    if application.status != CreditApplication.Status.DRAFT:
        raise InvalidState(_("Only a draft can be changed."))
    current = {name: getattr(application, name) for name in EDITABLE_FIELDS}
    merged = {**current, **fields}
    cleaned = validate_application(
        merchant=application.merchant, member=application.member, kind=application.kind, line=application.line,
        user=actor.user, **{k: v for k, v in merged.items() if k != "purpose"})
    changed = {}
    for name, value in {**cleaned, "purpose": (merged["purpose"] or "").strip()}.items():
        if getattr(application, name) != value:
            changed[name] = str(value)
            setattr(application, name, value)
    if changed:
        application.save()
        audit_record(actor=actor, obj=application, action="update", from_state=application.status,
                     to_state=application.status, data=changed)
    return application


@transaction.atomic
def credit_application_submit(*, application, actor, reason: str = "") -> CreditApplication:
    actor = require(actor)
    application = _locked(application)
    if application.status == CreditApplication.Status.DRAFT:
        # The world may have moved since the draft: the member frozen, a line opened meanwhile.
        validate_application(
            merchant=application.merchant, member=application.member, kind=application.kind, line=application.line,
            user=actor.user, **{k: getattr(application, k) for k in EDITABLE_FIELDS if k != "purpose"})
        result = score_member(application.member, as_of=business_date_for(), term_days=application.term_days)
        application.score = result.score
        application.suggested_limit = result.suggested_limit
        application.score_factors = result.factors_as_json()
        application.scored_as_of = result.as_of
    return transition(application, "submit", actor=actor, reason=reason,
                      data={"score": application.score, "suggested_limit": application.suggested_limit})


@transaction.atomic
def credit_application_review(*, application, actor, reason: str = "") -> CreditApplication:
    actor = require(actor)
    application = _locked(application)
    return transition(application, "review", actor=actor, reason=reason, by=actor.user)


@transaction.atomic
def credit_application_approve(*, application, actor, reason: str = "") -> CreditApplication:
    actor = require(actor)
    application = _locked(application)
    approval_no = 1 if application.first_approver_id is None else 2
    transition(application, "approve", actor=actor, reason=reason, by=actor.user,
               data={"approval": approval_no, "approvals_needed": application.approvals_needed,
                     "limit": application.proposed_limit})
    if application.status == CreditApplication.Status.APPROVED:
        _apply(application, actor)
    return application


@transaction.atomic
def credit_application_reject(*, application, actor, reason: str) -> CreditApplication:
    actor = require(actor)
    application = _locked(application)
    application.rejection_reason = (reason or "").strip()
    return transition(application, "reject", actor=actor, reason=reason, reason_required=True, by=actor.user)


# --- approval's effect on the line --------------------------------------------------------

def _apply(application, actor):
    terms = {"term_days": application.term_days, "grace_days": application.grace_days,
             "penalty_rate": application.penalty_rate}
    if application.kind == CreditApplication.Kind.NEW_LINE:
        try:
            with transaction.atomic():
                line = CreditLine.objects.create(
                    merchant=application.merchant, member=application.member, limit=application.proposed_limit,
                    creditor_is_platform=application.creditor_is_platform,
                    creditor_member=application.creditor_member, **terms)
        except IntegrityError:
            raise Duplicate(_("The member has had a credit line opened meanwhile.")) from None
        application.line = line
        application.save(update_fields=["line", "updated_at"])
        audit_record(actor=actor, obj=line, action="open", to_state=line.status,
                     data={"application": application.pk, "limit": line.limit, **terms})
        return line
    line = CreditLine.objects.select_for_update(no_key=True).get(pk=application.line_id)
    if line.status == CreditLine.Status.CLOSED:
        raise InvalidState(_("The line was closed meanwhile."))
    if application.proposed_limit < line.used:
        raise InvalidState(_("The new limit is below what is drawn now (%(used)s).") % {"used": line.used})
    before = {"limit": line.limit, "term_days": line.term_days, "grace_days": line.grace_days,
              "penalty_rate": line.penalty_rate}
    line.limit = application.proposed_limit
    for name, value in terms.items():
        setattr(line, name, value)
    line.save()
    audit_record(actor=actor, obj=line, action="limit_change", from_state=line.status, to_state=line.status,
                 data={"application": application.pk, "before": before,
                       "after": {"limit": line.limit, **terms}})
    return line
