from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.money import ZERO, MoneyField
from core.permissions import may

from .common import creditor_constraint, creditor_label, penalty_rate_field, terms_constraints


class CreditLine(models.Model):
    """A buyer's credit line: active ⇄ suspended → closed. `used` is the principal drawn and
    not yet repaid; the database keeps it between zero and the limit (the last guard against a
    race the row lock in credit_drawdown already prevents). Limit and terms change only through
    an approved CreditApplication; bills keep the terms they were drawn under."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    member = models.ForeignKey("merchants.Member", verbose_name=_("buyer"), on_delete=models.PROTECT,
                               related_name="credit_lines")
    creditor_is_platform = models.BooleanField(_("creditor is the platform"), default=False)
    creditor_member = models.ForeignKey("merchants.Member", verbose_name=_("creditor (seller)"), null=True,
                                        blank=True, on_delete=models.PROTECT, related_name="+")
    limit = MoneyField(_("limit"))
    used = MoneyField(_("used"), default=ZERO)
    term_days = models.PositiveSmallIntegerField(_("term (days)"))
    grace_days = models.PositiveSmallIntegerField(_("grace (days)"), default=0)
    penalty_rate = penalty_rate_field()
    status = FSMField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    creditor_label = creditor_label
    status_reason = models.TextField(_("reason for the status"), blank=True)
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("credit line")
        verbose_name_plural = _("credit lines")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "member"], condition=~Q(status="closed"),
                                    name="credit_line_one_open_line_per_member"),
            models.UniqueConstraint(fields=["merchant", "id"], name="credit_line_merchant_id_key"),
            models.CheckConstraint(condition=Q(limit__gt=0), name="credit_line_limit_positive"),
            models.CheckConstraint(condition=Q(used__gte=0), name="credit_line_used_never_negative"),
            models.CheckConstraint(condition=Q(used__lte=models.F("limit")), name="credit_line_used_within_limit"),
            creditor_constraint("credit_line"),
            *terms_constraints("credit_line"),
        ]
        permissions = [("manage_creditline", _("Can suspend, reactivate and close a credit line"))]

    def __str__(self):
        return f"{self.member} · {self.limit}"

    @property
    def available(self):
        """What can be drawn now: nothing unless the line is active."""
        if self.status != self.Status.ACTIVE:
            return ZERO
        return max(self.limit - self.used, ZERO)

    @transition(field=status, source=Status.ACTIVE, target=Status.SUSPENDED,
                permission=may("credit.manage_creditline"), custom={"label": _("Suspend")})
    def suspend(self):
        pass

    @transition(field=status, source=Status.SUSPENDED, target=Status.ACTIVE,
                permission=may("credit.manage_creditline"), custom={"label": _("Reactivate")})
    def reactivate(self):
        pass

    @transition(field=status, source=[Status.ACTIVE, Status.SUSPENDED], target=Status.CLOSED,
                permission=may("credit.manage_creditline"), custom={"label": _("Close")})
    def close(self):
        pass
