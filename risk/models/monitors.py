"""Balance monitors and their alerts; the history of each merchant's computed risk level.

A monitor watches one balance field for one merchant or all (`merchant` empty), over one member
(`member`) or every account of the field's kind (the field fixes the kind: available → members'
available accounts, frozen → members' frozen accounts, escrow held → the escrow account, suspense
→ the suspense account, reserve shortfall → the risk reserve account, whose value is the required
reserve less its balance). An alert is one crossing of one monitor on one account: open from the
moment the condition became true until it became false again (`cleared_at`); the partial unique
index allows one open alert per monitor and account, so racing evaluators raise it once."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import ZERO, MoneyField
from ledger.models import AccountKind
from merchants.models import RiskLevel


class MonitorField(models.TextChoices):
    AVAILABLE = "available", _("Available balance (members)")
    FROZEN = "frozen", _("Frozen balance (members)")
    RESERVE_SHORTFALL = "reserve_shortfall", _("Reserve shortfall (required − reserve balance)")
    ESCROW_HELD = "escrow_held", _("Escrow held")
    SUSPENSE = "suspense", _("Suspense (unidentified inflows)")


# The account kind each field reads, and the fields that may target one member.
FIELD_KIND = {
    MonitorField.AVAILABLE: AccountKind.MEMBER_AVAILABLE,
    MonitorField.FROZEN: AccountKind.MEMBER_FROZEN,
    MonitorField.RESERVE_SHORTFALL: AccountKind.RISK_RESERVE,
    MonitorField.ESCROW_HELD: AccountKind.ESCROW,
    MonitorField.SUSPENSE: AccountKind.SUSPENSE,
}
MEMBER_FIELDS = (MonitorField.AVAILABLE, MonitorField.FROZEN)


class Operator(models.TextChoices):
    LT = "lt", "<"
    LTE = "lte", "≤"
    GT = "gt", ">"
    GTE = "gte", "≥"


class BalanceMonitor(models.Model):
    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 help_text=_("Empty: every merchant."))
    member = models.ForeignKey("merchants.Member", verbose_name=_("member"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+",
                               help_text=_("Empty: every account of the field's kind."))
    field = models.CharField(_("field"), max_length=24, choices=MonitorField.choices)
    operator = models.CharField(_("operator"), max_length=4, choices=Operator.choices)
    threshold = MoneyField(_("threshold"), default=ZERO)
    enabled = models.BooleanField(_("enabled"), default=True)
    description = models.CharField(_("description"), max_length=255)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("balance monitor")
        verbose_name_plural = _("balance monitors")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(threshold__gte=0), name="monitor_threshold_not_negative"),
            models.CheckConstraint(condition=Q(member__isnull=True) | Q(field__in=MEMBER_FIELDS),
                                   name="monitor_member_only_for_member_fields"),
            models.CheckConstraint(condition=Q(member__isnull=True) | Q(merchant__isnull=False),
                                   name="monitor_member_has_its_merchant"),
        ]
        permissions = [("evaluate_balancemonitor", _("Can evaluate balance monitors now"))]

    def __str__(self):
        return self.description or f"{self.get_field_display()} {self.get_operator_display()} {self.threshold}"

    @property
    def account_kind(self) -> str:
        return FIELD_KIND[self.field]

    @property
    def condition_text(self) -> str:
        return f"{self.get_field_display()} {self.get_operator_display()} {self.threshold}"


class MonitorAlert(models.Model):
    monitor = models.ForeignKey(BalanceMonitor, verbose_name=_("monitor"), on_delete=models.PROTECT,
                                related_name="alerts")
    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    account = models.ForeignKey("ledger.Account", verbose_name=_("account"), on_delete=models.PROTECT,
                                related_name="+")
    member = models.ForeignKey("merchants.Member", verbose_name=_("member"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    value = MoneyField(_("value when crossed"))
    condition = models.CharField(_("condition"), max_length=120, help_text=_("The monitor's condition when crossed."))
    crossed_at = models.DateTimeField(_("crossed at"), default=timezone.now)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    cleared_value = MoneyField(_("value when cleared"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("acknowledged by"), null=True,
                                        blank=True, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledge_reason = models.TextField(_("acknowledgement"), blank=True)

    class Meta:
        verbose_name = _("monitor alert")
        verbose_name_plural = _("monitor alerts")
        ordering = ["-crossed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["monitor", "account"], condition=Q(cleared_at__isnull=True),
                                    name="alert_one_open_per_monitor_and_account"),
        ]
        indexes = [models.Index(fields=["merchant", "-crossed_at"], name="alert_merchant_recent_idx")]
        permissions = [("acknowledge_monitoralert", _("Can acknowledge a monitor alert"))]

    def __str__(self):
        return f"{self.monitor} · {self.value}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class RiskAssessment(models.Model):
    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    level = models.CharField(_("risk level"), max_length=16, choices=RiskLevel.choices)
    score = models.PositiveSmallIntegerField(_("score"))
    factors = models.JSONField(_("factors"), default=list)
    as_of = models.DateField(_("as of"))
    window_days = models.PositiveSmallIntegerField(_("window (days)"))
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    computed_by = models.CharField(_("computed by"), max_length=150)

    class Meta:
        verbose_name = _("risk assessment")
        verbose_name_plural = _("risk assessments")
        ordering = ["-computed_at", "-id"]
        indexes = [models.Index(fields=["merchant", "-computed_at"], name="assessment_merchant_recent_idx")]
        permissions = [("assess_merchant", _("Can recompute a merchant's risk level"))]

    def __str__(self):
        return f"{self.merchant_id} {self.get_level_display()} ({self.score})"

