"""The risk reserve's decisions (风险保证金), each one a risk officer's request and a second risk officer's
approval (maker-checker on the model: the approver is never the requester), all kept as history:

- ReservePolicy: what a merchant must hold — a fixed amount, or a percentage of the customers'
  money that reached its supervision account over the last RESERVE_WINDOW_DAYS days (with a floor).
  One policy in force per merchant; approving a new one supersedes the old. The amount in force is
  written to Merchant.risk_reserve_required (on approval, and daily for a percentage), which the
  monitors, the risk level, the dashboards and the withdrawal check read.
- ReserveCompensation: money from the reserve to a wronged member (a buyer), with the order it
  concerns and a reason; booked on approval (ledger.services.reserve).
- ReserveRelease: the whole reserve back to the platform when the merchant closes, only after a clean
  last end of day and once every other balance is zero; booked on approval.

Part of the risk.models package."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.money import ZERO, MoneyField
from core.permissions import checker, may

RESERVE_WINDOW_DAYS = 30


class DecisionStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested (awaiting a second approval)")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ReserveDecision(models.Model):
    """What the three decisions share: who asked, when and why; who decided, when and why."""

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"), null=True,
                                     on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved or rejected by"), null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("decision comment"), blank=True)

    class Meta:
        abstract = True


class ReservePolicy(ReserveDecision):
    class Basis(models.TextChoices):
        AMOUNT = "amount", _("A fixed amount")
        PERCENT = "percent", _("A percentage of the last 30 days' inflows")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested (awaiting a second approval)")
        IN_FORCE = "in_force", _("In force")
        SUPERSEDED = "superseded", _("Superseded")
        REJECTED = "rejected", _("Rejected")

    basis = models.CharField(_("basis"), max_length=8, choices=Basis.choices)
    amount = MoneyField(_("required amount"), null=True, blank=True, help_text=_("For a fixed amount."))
    percent = models.DecimalField(_("percentage of inflows"), max_digits=5, decimal_places=2, null=True, blank=True,
                                  help_text=_("For a percentage: of the customers' money in over the last 30 days."))
    minimum = MoneyField(_("minimum"), default=ZERO, help_text=_("For a percentage: never less than this."))
    status = FSMField(_("status"), max_length=12, choices=Status.choices, default=Status.REQUESTED)
    required_at_approval = MoneyField(_("required amount when approved"), null=True, blank=True)

    class Meta:
        verbose_name = _("risk reserve policy")
        verbose_name_plural = _("risk reserve policies")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(basis="amount", amount__isnull=False, amount__gte=0, percent__isnull=True)
                           | Q(basis="percent", amount__isnull=True, percent__gt=0, percent__lte=100)),
                name="reserve_policy_amount_or_percent"),
            models.CheckConstraint(condition=Q(minimum__gte=0), name="reserve_policy_minimum_not_negative"),
            models.UniqueConstraint(fields=["merchant"], condition=Q(status="in_force"),
                                    name="reserve_policy_one_in_force_per_merchant"),
            models.UniqueConstraint(fields=["merchant"], condition=Q(status="requested"),
                                    name="reserve_policy_one_request_per_merchant"),
        ]
        permissions = [
            ("request_reservepolicy", _("Can request a merchant's required risk reserve")),
            ("approve_reservepolicy", _("Can approve or reject a required risk reserve requested by someone else")),
        ]

    def __str__(self):
        if self.basis == self.Basis.PERCENT:
            return _("%(percent)s%% of 30 days' inflows (at least %(minimum)s)") % {
                "percent": self.percent, "minimum": self.minimum}
        return str(self.amount)

    @transition(field=status, source=Status.REQUESTED, target=Status.IN_FORCE,
                permission=checker("risk.approve_reservepolicy", "requested_by_id"), custom={"label": _("Approve")})
    def approve(self):
        pass

    @transition(field=status, source=Status.REQUESTED, target=Status.REJECTED,
                permission=checker("risk.approve_reservepolicy", "requested_by_id"), custom={"label": _("Reject")})
    def reject(self):
        pass

    @transition(field=status, source=Status.IN_FORCE, target=Status.SUPERSEDED,
                permission=may("risk.approve_reservepolicy"), custom={"label": _("Supersede")})
    def supersede(self):
        pass


class ReserveCompensation(ReserveDecision):
    Status = DecisionStatus

    member = models.ForeignKey("merchants.Member", verbose_name=_("member (the wronged buyer)"),
                               on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(_("amount"))
    order_no = models.CharField(_("order number"), max_length=64, help_text=_("The order the compensation concerns."))
    platform_may_pay = models.BooleanField(
        _("platform's own money for the remainder"), default=False,
        help_text=_("If the reserve holds less than the amount, the rest comes from the platform's fee income. "
                    "Otherwise a compensation larger than the reserve is refused."))
    status = FSMField(_("status"), max_length=12, choices=DecisionStatus.choices, default=DecisionStatus.REQUESTED)
    entry = models.ForeignKey("ledger.JournalEntry", verbose_name=_("journal entry"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    reserve_part = MoneyField(_("paid from the reserve"), null=True, blank=True)
    platform_part = MoneyField(_("paid from the platform's fee income"), null=True, blank=True)

    class Meta:
        verbose_name = _("risk reserve compensation")
        verbose_name_plural = _("risk reserve compensations")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="reserve_compensation_amount_positive"),
            models.CheckConstraint(condition=~Q(order_no=""), name="reserve_compensation_names_its_order"),
        ]
        permissions = [
            ("request_reservecompensation", _("Can request a compensation from the risk reserve")),
            ("approve_reservecompensation", _("Can approve or reject a compensation requested by someone else")),
        ]

    def __str__(self):
        return f"{self.order_no} {self.amount}"

    @transition(field=status, source=DecisionStatus.REQUESTED, target=DecisionStatus.APPROVED,
                permission=checker("risk.approve_reservecompensation", "requested_by_id"),
                custom={"label": _("Approve and pay")})
    def approve(self):
        pass

    @transition(field=status, source=DecisionStatus.REQUESTED, target=DecisionStatus.REJECTED,
                permission=checker("risk.approve_reservecompensation", "requested_by_id"),
                custom={"label": _("Reject")})
    def reject(self):
        pass


class ReserveRelease(ReserveDecision):
    Status = DecisionStatus

    payee_account_name = models.CharField(_("platform's account name"), max_length=200)
    payee_account_number = models.CharField(_("platform's account number"), max_length=40)
    payee_bank = models.CharField(_("platform's bank"), max_length=200, blank=True)
    status = FSMField(_("status"), max_length=12, choices=DecisionStatus.choices, default=DecisionStatus.REQUESTED)
    amount = MoneyField(_("released amount"), null=True, blank=True)
    entry = models.ForeignKey("ledger.JournalEntry", verbose_name=_("journal entry"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("risk reserve release")
        verbose_name_plural = _("risk reserve releases")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant"], condition=Q(status="requested"),
                                    name="reserve_release_one_request_per_merchant"),
            models.UniqueConstraint(fields=["merchant"], condition=Q(status="approved"),
                                    name="reserve_release_once_per_merchant"),
        ]
        permissions = [
            ("request_reserverelease", _("Can request the release of a closing merchant's risk reserve")),
            ("approve_reserverelease", _("Can approve or reject a reserve release requested by someone else")),
        ]

    def __str__(self):
        return f"{self.merchant_id} → {self.payee_account_name}"

    @transition(field=status, source=DecisionStatus.REQUESTED, target=DecisionStatus.APPROVED,
                permission=checker("risk.approve_reserverelease", "requested_by_id"),
                custom={"label": _("Approve and release")})
    def approve(self):
        pass

    @transition(field=status, source=DecisionStatus.REQUESTED, target=DecisionStatus.REJECTED,
                permission=checker("risk.approve_reserverelease", "requested_by_id"),
                custom={"label": _("Reject")})
    def reject(self):
        pass
