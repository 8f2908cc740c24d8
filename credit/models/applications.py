from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, transition

from core.money import MoneyField
from core.permissions import may

from .common import creditor_constraint, creditor_label, penalty_rate_field, terms_constraints


def second_approval_threshold() -> Decimal:
    return Decimal(str(settings.JIANGUAN["CREDIT_SECOND_APPROVAL_ABOVE"]))


def _reviewer(instance, user) -> bool:
    """Maker-checker: the permission, and never the staff user who prepared the application."""
    return (user.is_active and user.has_perm("credit.review_creditapplication")
            and user.pk != instance.prepared_by_id)


def _approver(instance, user) -> bool:
    """Never the preparer; a second approval never by the first approver."""
    return (user.is_active and user.has_perm("credit.approve_creditapplication")
            and user.pk != instance.prepared_by_id and user.pk != instance.first_approver_id)


def _rejecter(instance, user) -> bool:
    return (user.is_active and user.pk != instance.prepared_by_id
            and (user.has_perm("credit.review_creditapplication")
                 or user.has_perm("credit.approve_creditapplication")))


class CreditApplication(models.Model):
    """A request for a new credit line, or for a change of an existing line's limit and terms.

    draft → submitted → rm_reviewed → approved | rejected. The RM prepares and submits; a risk
    officer (never the preparer) reviews; a risk officer (never the preparer) approves. Above
    JIANGUAN["CREDIT_SECOND_APPROVAL_ABOVE"] the first approval is recorded and the status stays
    `rm_reviewed` until a second, different risk officer approves."""

    class Kind(models.TextChoices):
        NEW_LINE = "new_line", _("New credit line")
        LIMIT_CHANGE = "limit_change", _("Change of an existing line")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        RM_REVIEWED = "rm_reviewed", _("Reviewed")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    member = models.ForeignKey("merchants.Member", verbose_name=_("buyer"), on_delete=models.PROTECT,
                               related_name="credit_applications")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.NEW_LINE)
    line = models.ForeignKey("credit.CreditLine", verbose_name=_("credit line"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="applications",
                             help_text=_("The line to change (limit change), or the line the approval opened."))
    proposed_limit = MoneyField(_("proposed limit"))
    term_days = models.PositiveSmallIntegerField(_("term (days)"))
    grace_days = models.PositiveSmallIntegerField(_("grace (days)"), default=0)
    penalty_rate = penalty_rate_field()
    creditor_is_platform = models.BooleanField(_("creditor is the platform"), default=False)
    creditor_member = models.ForeignKey("merchants.Member", verbose_name=_("creditor (seller)"), null=True,
                                        blank=True, on_delete=models.PROTECT, related_name="+")
    purpose = models.TextField(_("purpose and reasons"), blank=True)
    status = FSMField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    creditor_label = creditor_label
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("prepared by"),
                                    on_delete=models.PROTECT, related_name="+")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    first_approver = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("first approver"), null=True,
                                       blank=True, on_delete=models.PROTECT, related_name="+")
    second_approver = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("second approver"),
                                        null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved or rejected by"),
                                   null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    # The score as the approver saw it: taken at submission, on the submission's business date.
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    suggested_limit = MoneyField(_("suggested limit"), null=True, blank=True)
    score_factors = models.JSONField(_("score factors"), default=list, blank=True)
    scored_as_of = models.DateField(_("scored as of"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("credit application")
        verbose_name_plural = _("credit applications")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(proposed_limit__gt=0), name="credit_application_limit_positive"),
            models.CheckConstraint(condition=Q(kind="new_line") | Q(line__isnull=False),
                                   name="credit_application_limit_change_names_its_line"),
            creditor_constraint("credit_application"),
            *terms_constraints("credit_application"),
        ]
        indexes = [models.Index(fields=["merchant", "status"], name="credit_app_merchant_status_idx")]
        permissions = [
            ("submit_creditapplication", _("Can submit a credit application")),
            ("review_creditapplication", _("Can review a credit application")),
            ("approve_creditapplication", _("Can approve or reject a credit application")),
        ]

    def __str__(self):
        return f"#{self.pk} {self.member} {self.proposed_limit}"

    @property
    def needs_second_approval(self) -> bool:
        return self.proposed_limit > second_approval_threshold()

    @property
    def approvals_needed(self) -> int:
        return 2 if self.needs_second_approval else 1

    # Transitions: state changes only; side effects (opening or changing the line) and the
    # audit live in credit.services.applications.
    @transition(field=status, source=Status.DRAFT, target=Status.SUBMITTED,
                permission=may("credit.submit_creditapplication"), custom={"label": _("Submit")})
    def submit(self):
        pass

    @transition(field=status, source=Status.SUBMITTED, target=Status.RM_REVIEWED, permission=_reviewer,
                custom={"label": _("Mark reviewed")})
    def review(self, by=None):
        self.reviewed_by = by

    @transition(field=status, source=Status.RM_REVIEWED, target=RETURN_VALUE(Status.RM_REVIEWED, Status.APPROVED),
                permission=_approver, custom={"label": _("Approve")})
    def approve(self, by=None):
        if self.first_approver_id is None:
            self.first_approver = by
            if self.needs_second_approval:
                return self.Status.RM_REVIEWED  # recorded; waits for a second risk officer
        else:
            self.second_approver = by
        self.decided_by = by
        return self.Status.APPROVED

    @transition(field=status, source=[Status.SUBMITTED, Status.RM_REVIEWED], target=Status.REJECTED,
                permission=_rejecter, custom={"label": _("Reject")})
    def reject(self, by=None):
        self.decided_by = by
