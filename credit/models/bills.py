from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.money import ZERO, MoneyField

from .common import creditor_constraint, creditor_label, penalty_rate_field


class CreditBill(models.Model):
    """One drawdown: the buyer owes `amount` (principal) to the creditor by `due_date`
    (business date of the drawdown + the line's term). open → partially_repaid → repaid;
    open | partially_repaid → overdue (after due date + grace) → repaid. Penalty interest
    accrues on the outstanding principal while overdue; repayments pay penalty first."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PARTIALLY_REPAID = "partially_repaid", _("Partially repaid")
        REPAID = "repaid", _("Repaid")
        OVERDUE = "overdue", _("Overdue")

    OUTSTANDING_STATUSES = (Status.OPEN, Status.PARTIALLY_REPAID, Status.OVERDUE)

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    line = models.ForeignKey("credit.CreditLine", verbose_name=_("credit line"), on_delete=models.PROTECT,
                             related_name="bills")
    member = models.ForeignKey("merchants.Member", verbose_name=_("buyer"), on_delete=models.PROTECT,
                               related_name="credit_bills")
    payee = models.ForeignKey("merchants.Member", verbose_name=_("payee (seller)"), on_delete=models.PROTECT,
                              related_name="credit_bills_received")
    creditor_is_platform = models.BooleanField(_("creditor is the platform"), default=False)
    creditor_member = models.ForeignKey("merchants.Member", verbose_name=_("creditor (seller)"), null=True,
                                        blank=True, on_delete=models.PROTECT, related_name="+")
    order_no = models.CharField(_("order number"), max_length=64)
    amount = MoneyField(_("principal"))
    principal_repaid = MoneyField(_("principal repaid"), default=ZERO)
    penalty_rate = penalty_rate_field()
    penalty_accrued = MoneyField(_("penalty accrued"), default=ZERO)
    penalty_repaid = MoneyField(_("penalty repaid"), default=ZERO)
    business_date = models.DateField(_("drawn on (business date)"))
    due_date = models.DateField(_("due date"), db_index=True)
    grace_until = models.DateField(_("grace until"), help_text=_("Due date plus the line's grace days."))
    status = FSMField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    creditor_label = creditor_label
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True)
    repaid_on = models.DateField(_("repaid on (business date)"), null=True, blank=True)
    last_accrual_date = models.DateField(_("penalty accrued up to"), null=True, blank=True)
    entry = models.ForeignKey("ledger.JournalEntry", verbose_name=_("drawdown entry"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+",
                              help_text=_("Empty when the creditor is the payee: no money moves."))
    created_by = models.CharField(_("drawn by"), max_length=150)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("credit bill")
        verbose_name_plural = _("credit bills")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "order_no"], name="credit_bill_order_no_unique_per_merchant"),
            models.UniqueConstraint(fields=["merchant", "id"], name="credit_bill_merchant_id_key"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_bill_amount_positive"),
            models.CheckConstraint(condition=Q(principal_repaid__gte=0, principal_repaid__lte=F("amount")),
                                   name="credit_bill_principal_repaid_within_amount"),
            models.CheckConstraint(condition=Q(penalty_repaid__gte=0, penalty_repaid__lte=F("penalty_accrued")),
                                   name="credit_bill_penalty_repaid_within_accrued"),
            models.CheckConstraint(condition=Q(due_date__gte=F("business_date"), grace_until__gte=F("due_date")),
                                   name="credit_bill_dates_in_order"),
            creditor_constraint("credit_bill"),
        ]
        indexes = [
            models.Index(fields=["merchant", "status", "due_date"], name="credit_bill_aging_idx"),
            models.Index(fields=["status", "grace_until"], name="credit_bill_sweep_idx"),
        ]

    def __str__(self):
        return f"{self.order_no} {self.amount}"

    @property
    def principal_outstanding(self):
        return self.amount - self.principal_repaid

    @property
    def penalty_outstanding(self):
        return self.penalty_accrued - self.penalty_repaid

    @property
    def outstanding(self):
        return self.principal_outstanding + self.penalty_outstanding

    @transition(field=status, source=[Status.OPEN, Status.PARTIALLY_REPAID], target=Status.PARTIALLY_REPAID)
    def repay_partly(self):
        pass

    @transition(field=status, source=[Status.OPEN, Status.PARTIALLY_REPAID, Status.OVERDUE], target=Status.REPAID)
    def settle(self):
        pass

    @transition(field=status, source=[Status.OPEN, Status.PARTIALLY_REPAID], target=Status.OVERDUE)
    def mark_overdue(self):
        pass


class Repayment(models.Model):
    """One repayment of a bill, split into penalty (paid first) and principal. Append-only."""

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    bill = models.ForeignKey(CreditBill, verbose_name=_("bill"), on_delete=models.PROTECT, related_name="repayments")
    amount = MoneyField(_("amount"))
    penalty_part = MoneyField(_("to penalty"))
    principal_part = MoneyField(_("to principal"))
    idempotency_ref = models.CharField(_("idempotency reference"), max_length=64)
    entry = models.ForeignKey("ledger.JournalEntry", verbose_name=_("entry"), on_delete=models.PROTECT,
                              related_name="+")
    business_date = models.DateField(_("business date"))
    actor_label = models.CharField(_("actor"), max_length=150)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("repayment")
        verbose_name_plural = _("repayments")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "idempotency_ref"],
                                    name="credit_repayment_ref_unique_per_merchant"),
            models.CheckConstraint(condition=Q(amount__gt=0, penalty_part__gte=0, principal_part__gte=0),
                                   name="credit_repayment_parts_not_negative"),
            models.CheckConstraint(condition=Q(amount=F("penalty_part") + F("principal_part")),
                                   name="credit_repayment_parts_add_up"),
        ]

    def __str__(self):
        return f"{self.bill.order_no} {self.amount}"


class PenaltyAccrual(models.Model):
    """Penalty interest of one bill for one calendar day: round_half_up(principal × rate, 0.01).
    Unique per bill and day, so a rerun of the sweep for the same date accrues nothing twice.
    Append-only."""

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    bill = models.ForeignKey(CreditBill, verbose_name=_("bill"), on_delete=models.PROTECT, related_name="accruals")
    accrual_date = models.DateField(_("day"))
    principal_base = MoneyField(_("outstanding principal"))
    rate = penalty_rate_field()
    amount = MoneyField(_("penalty"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("penalty accrual")
        verbose_name_plural = _("penalty accruals")
        ordering = ["bill_id", "accrual_date"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "bill", "accrual_date"],
                                    name="credit_penalty_once_per_bill_per_day"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_penalty_amount_positive"),
        ]

    def __str__(self):
        return f"{self.bill_id} {self.accrual_date} {self.amount}"
