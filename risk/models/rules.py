"""Outflow rules, their hits and the risk queue ; part of the risk.models package.

A rule (OutflowRule) is data the risk office keeps in the admin: for every merchant or one
(`merchant`), optionally only for merchants whose computed risk level is at least `min_risk_level`,
for one movement kind or all (`movement`), a condition (`kind` and its parameters), an outcome
(allow, review, refuse) and a mode (enforce, or observe: record what it would have done and book
nothing differently). risk.services.rules evaluates the active rules on every outflow the ledger
offers (ledger.outflows); each rule that matches leaves a RuleHit. A movement put in review is a
RiskReview in the queue: open until a risk officer passes or refuses it (a reason either way for a
refusal), never the rule's own author (maker-checker)."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.money import MoneyField
from merchants.models import RiskLevel

RISK_ORDER = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}
DECIDE_PERMISSION = "risk.decide_riskreview"


class Movement(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    WITHDRAWAL = "withdrawal", _("Withdrawal")
    RELEASE = "release", _("Release from escrow")


class RuleKind(models.TextChoices):
    AMOUNT_LIMIT = "amount_limit", _("Amount above a limit")
    VELOCITY_COUNT = "velocity_count", _("More movements per member than the count in the window")
    VELOCITY_SUM = "velocity_sum", _("Member's total in the window above the amount")
    NEW_MEMBER = "new_member", _("Member younger than N days, amount above the limit")
    NEW_CARD = "new_card", _("First withdrawal to a card (bound less than N days ago, if set)")
    QUICK_RELEASE = "quick_release", _("Release sooner than N hours after the payment was held")
    NEW_PAYERS = "new_payers", _("Payee paid by at least the count of new members in the window")


# Which movements each kind can judge (the rest never match), and the parameters it needs.
KIND_MOVEMENTS = {
    RuleKind.NEW_CARD: (Movement.WITHDRAWAL,),
    RuleKind.QUICK_RELEASE: (Movement.RELEASE,),
    RuleKind.NEW_PAYERS: (Movement.PAYMENT,),
}
KIND_PARAMETERS = {
    RuleKind.AMOUNT_LIMIT: ("amount",),
    RuleKind.VELOCITY_COUNT: ("count", "window"),
    RuleKind.VELOCITY_SUM: ("amount", "window"),
    RuleKind.NEW_MEMBER: ("days", "amount"),
    RuleKind.NEW_CARD: (),
    RuleKind.QUICK_RELEASE: ("hours",),
    RuleKind.NEW_PAYERS: ("count", "days", "window"),
}


class Window(models.TextChoices):
    HOUR = "hour", _("Last hour")
    DAY = "day", _("Last 24 hours")


class Outcome(models.TextChoices):
    ALLOW = "allow", _("Allow (record only)")
    REVIEW = "review", _("Review (hold for a risk officer)")
    REFUSE = "refuse", _("Refuse")


class Mode(models.TextChoices):
    ENFORCE = "enforce", _("Enforce")
    OBSERVE = "observe", _("Observe (record what it would do)")


class OutflowRule(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+", help_text=_("Empty: every merchant."))
    min_risk_level = models.CharField(_("minimum risk level"), max_length=16, choices=RiskLevel.choices, blank=True,
                                      help_text=_("Only merchants whose computed risk level is at least this "
                                                  "(empty: whatever their level)."))
    movement = models.CharField(_("movement"), max_length=16, choices=Movement.choices, blank=True,
                                help_text=_("Empty: every movement the condition can judge."))
    kind = models.CharField(_("condition"), max_length=24, choices=RuleKind.choices)
    amount = MoneyField(_("amount"), null=True, blank=True,
                        help_text=_("Limit (amount limit, new member) or total in the window (velocity sum)."))
    count = models.PositiveIntegerField(_("count"), null=True, blank=True,
                                        help_text=_("Most movements in the window (velocity count); fewest new "
                                                    "payers that trigger it (new payers)."))
    window = models.CharField(_("window"), max_length=8, choices=Window.choices, blank=True)
    days = models.PositiveIntegerField(_("days"), null=True, blank=True,
                                       help_text=_("Age under which a member is new (new member, new payers) or "
                                                   "a card is new (new card; empty: any card)."))
    hours = models.PositiveIntegerField(_("hours"), null=True, blank=True,
                                        help_text=_("Least time between payment and release (quick release)."))
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices, default=Outcome.REVIEW)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.OBSERVE,
                            help_text=_("A new rule observes first: it records what it would have done."))
    active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("last changed by"), null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("outflow rule")
        verbose_name_plural = _("outflow rules")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="rule_amount_positive"),
        ]

    def __str__(self):
        return self.name

    def judges(self, movement: str) -> bool:
        allowed = KIND_MOVEMENTS.get(self.kind)
        return (not self.movement or self.movement == movement) and (allowed is None or movement in allowed)

    def applies_to(self, merchant) -> bool:
        if self.merchant_id is not None and self.merchant_id != merchant.pk:
            return False
        return not self.min_risk_level or RISK_ORDER.get(merchant.risk_level, 0) >= RISK_ORDER[self.min_risk_level]

    @property
    def authors(self) -> set:
        return {pk for pk in (self.created_by_id, self.updated_by_id) if pk is not None}


class RiskReview(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for a risk officer")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    movement = models.CharField(_("movement"), max_length=16, choices=Movement.choices)
    member = models.ForeignKey("merchants.Member", verbose_name=_("member"), on_delete=models.PROTECT,
                               related_name="+")
    amount = MoneyField(_("amount"))
    order_no = models.CharField(_("order number"), max_length=64, blank=True)
    payment = models.ForeignKey("ledger.Payment", verbose_name=_("payment"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    withdrawal = models.ForeignKey("ledger.Withdrawal", verbose_name=_("withdrawal"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    request = models.JSONField(_("request"), default=dict, blank=True)  # a release's amount, splits, reason, reference
    rule = models.ForeignKey(OutflowRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="reviews")
    detail = models.CharField(_("why"), max_length=255, blank=True)
    status = FSMField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    reason = models.TextField(_("decision reason"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("raised at"), default=timezone.now)

    class Meta:
        verbose_name = _("risk review")
        verbose_name_plural = _("risk queue")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open review per movement: a payment's, a withdrawal's, a payment's release.
            models.UniqueConstraint(fields=["movement", "payment"], condition=Q(status="open"),
                                    name="review_one_open_per_payment_movement"),
            models.UniqueConstraint(fields=["withdrawal"], condition=Q(status="open"),
                                    name="review_one_open_per_withdrawal"),
        ]
        indexes = [models.Index(fields=["status", "-created_at"], name="review_queue_idx"),
                   models.Index(fields=["merchant", "-created_at"], name="review_merchant_recent_idx")]
        permissions = [("decide_riskreview", _("Can approve or refuse a movement in the risk queue"))]

    def __str__(self):
        return f"{self.get_movement_display()} {self.order_no} {self.amount}"

    def _decider(self, user) -> bool:
        # Maker-checker: a risk officer, never the author of the rule that raised it.
        return user.is_active and user.has_perm(DECIDE_PERMISSION) and user.pk not in self.rule.authors

    @transition(field=status, source=Status.OPEN, target=Status.APPROVED,
                permission=lambda review, user: review._decider(user), custom={"label": _("Approve")})
    def approve(self):
        pass

    @transition(field=status, source=Status.OPEN, target=Status.REFUSED,
                permission=lambda review, user: review._decider(user), custom={"label": _("Refuse")})
    def refuse(self):
        pass


class RuleHit(models.Model):
    """One rule matching one movement: what it decided (enforce) or would have (observe)."""

    rule = models.ForeignKey(OutflowRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="hits")
    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    member = models.ForeignKey("merchants.Member", verbose_name=_("member"), on_delete=models.PROTECT,
                               related_name="+")
    movement = models.CharField(_("movement"), max_length=16, choices=Movement.choices)
    amount = MoneyField(_("amount"))
    order_no = models.CharField(_("order number"), max_length=64, blank=True)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices)
    applied = models.BooleanField(_("decided the movement"), default=False,
                                  help_text=_("The strictest enforced hit decides; observed hits never do."))
    detail = models.CharField(_("why"), max_length=255)
    payment = models.ForeignKey("ledger.Payment", verbose_name=_("payment"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    withdrawal = models.ForeignKey("ledger.Withdrawal", verbose_name=_("withdrawal"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    review = models.ForeignKey(RiskReview, verbose_name=_("review"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="hits")
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("rule hit")
        verbose_name_plural = _("rule hits")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="rulehit_merchant_recent_idx"),
                   models.Index(fields=["rule", "-created_at"], name="rulehit_rule_recent_idx")]

    def __str__(self):
        return f"{self.rule} · {self.get_outcome_display()}"
