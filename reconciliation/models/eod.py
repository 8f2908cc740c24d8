from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.money import MoneyField
from core.permissions import may


class OrderType(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")
    WITHDRAWAL = "withdrawal", _("Withdrawal")


class OrderFile(models.Model):
    """The platform's orders for one business date (API or CSV upload). The end of day uses the
    latest file of the date; an earlier one is marked superseded, never deleted."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        RECONCILED = "reconciled", _("Reconciled")
        SUPERSEDED = "superseded", _("Superseded by a later file")

    class Source(models.TextChoices):
        API = "api", _("API")
        ADMIN = "admin", _("Admin upload")
        COMMAND = "command", _("Command line")

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    business_date = models.DateField(_("business date"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RECEIVED)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.API)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    line_count = models.PositiveIntegerField(_("orders"), default=0)
    total_amount = MoneyField(_("total amount"), default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("uploaded by"))
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("order file")
        verbose_name_plural = _("order files")
        ordering = ["-business_date", "-id"]
        constraints = [models.UniqueConstraint(fields=["merchant", "id"], name="orderfile_merchant_id_key")]
        indexes = [models.Index(fields=["merchant", "business_date"], name="orderfile_merchant_day_idx")]

    def __str__(self):
        return f"{self.business_date:%Y-%m-%d} #{self.pk} ({self.line_count})"


class OrderFileLine(models.Model):
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    order_file = models.ForeignKey(OrderFile, verbose_name=_("order file"), on_delete=models.PROTECT,
                                   related_name="lines")
    order_type = models.CharField(_("type"), max_length=16, choices=OrderType.choices)
    order_no = models.CharField(_("order number"), max_length=64)
    amount = MoneyField(_("amount"))
    payer_user_id = models.CharField(_("payer"), max_length=64, blank=True)
    payee_user_id = models.CharField(_("payee"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "order_file", "order_type", "order_no"],
                                    name="orderfileline_order_once_per_file"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="orderfileline_amount_positive"),
        ]

    def __str__(self):
        return f"{self.order_type} {self.order_no} {self.amount}"


class EodRun(models.Model):
    """The end-of-day result of one merchant and business date. A rerun replaces it."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        BALANCED = "balanced", _("Balanced")
        DISCREPANCIES = "discrepancies", _("Discrepancies")

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    business_date = models.DateField(_("business date"))
    status = FSMField(_("status"), max_length=16, choices=Status.choices, default=Status.RUNNING)
    order_file = models.ForeignKey(OrderFile, verbose_name=_("order file"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    orders = models.PositiveIntegerField(_("orders"), default=0)
    entries = models.PositiveIntegerField(_("ledger entries"), default=0)
    matched = models.PositiveIntegerField(_("matched"), default=0)
    missing_in_ledger = models.PositiveIntegerField(_("missing in ledger"), default=0)
    missing_in_orders = models.PositiveIntegerField(_("missing in orders"), default=0)
    amount_mismatches = models.PositiveIntegerField(_("amount mismatches"), default=0)
    party_mismatches = models.PositiveIntegerField(_("party mismatches"), default=0)
    differences = models.PositiveIntegerField(_("differences"), default=0)
    supervision_balance = MoneyField(_("supervision balance"), null=True, blank=True)
    virtual_total = MoneyField(_("sum of virtual balances"), null=True, blank=True)
    totals_balance = models.BooleanField(_("supervision = Σ virtual"), null=True)
    postings_match = models.BooleanField(_("balances = Σ postings"), null=True)
    book_closing_balance = MoneyField(_("book supervision balance at close"), null=True, blank=True)
    bank_closing_balance = MoneyField(_("bank closing balance"), null=True, blank=True)
    runs = models.PositiveIntegerField(_("times run"), default=0)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("started by"))
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("end-of-day run")
        verbose_name_plural = _("end-of-day runs")
        ordering = ["-business_date", "merchant_id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "business_date"], name="eodrun_one_per_merchant_day"),
            models.UniqueConstraint(fields=["merchant", "id"], name="eodrun_merchant_id_key"),
        ]
        permissions = [("run_endofday", _("Can run the end-of-day reconciliation"))]

    def __str__(self):
        return f"{self.business_date:%Y-%m-%d} {self.merchant_id}"

    @property
    def bank_difference(self):
        if self.bank_closing_balance is None or self.book_closing_balance is None:
            return None
        return self.bank_closing_balance - self.book_closing_balance

    @transition(field=status, source=[Status.RUNNING, Status.BALANCED, Status.DISCREPANCIES], target=Status.RUNNING)
    def restart(self):
        pass

    @transition(field=status, source=Status.RUNNING, target=Status.BALANCED)
    def finish_balanced(self):
        pass

    @transition(field=status, source=Status.RUNNING, target=Status.DISCREPANCIES)
    def finish_with_discrepancies(self):
        pass


class DifferenceKind(models.TextChoices):
    MISSING_IN_LEDGER = "missing_in_ledger", _("Order missing in the ledger")
    MISSING_IN_ORDERS = "missing_in_orders", _("Ledger entry missing in the order file")
    AMOUNT_MISMATCH = "amount_mismatch", _("Amounts differ")
    PARTY_MISMATCH = "party_mismatch", _("Payer or payee differs")
    ORDER_FILE_MISSING = "order_file_missing", _("No order file for the day")
    TOTALS_UNBALANCED = "totals_unbalanced", _("Supervision ≠ Σ virtual balances")
    BALANCE_NOT_POSTINGS = "balance_not_postings", _("Account balance ≠ Σ postings")
    BANK_STATEMENT_MISSING = "bank_statement_missing", _("No bank statement for the day")
    BANK_BALANCE_MISMATCH = "bank_balance_mismatch", _("Bank closing balance ≠ book balance")


# The differences that are one order each (the others are the day's or an account's).
ORDER_KINDS = (DifferenceKind.MISSING_IN_LEDGER, DifferenceKind.MISSING_IN_ORDERS, DifferenceKind.AMOUNT_MISMATCH,
               DifferenceKind.PARTY_MISMATCH)


class EodDifference(models.Model):
    Kind = DifferenceKind

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    run = models.ForeignKey(EodRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="difference_rows")
    kind = models.CharField(_("kind"), max_length=32, choices=DifferenceKind.choices)
    key = models.CharField(_("key"), max_length=96, blank=True)
    order_type = models.CharField(_("type"), max_length=16, blank=True)
    order_no = models.CharField(_("order number"), max_length=64, blank=True)
    expected_amount = MoneyField(_("platform / bank amount"), null=True, blank=True)
    actual_amount = MoneyField(_("ledger amount"), null=True, blank=True)
    entry_id_hint = models.BigIntegerField(_("ledger entry"), null=True, blank=True)
    # The parties as each side names them (user ids; blank where a side names none), on the
    # differences of orders that both sides have.
    platform_payer = models.CharField(_("platform's payer"), max_length=64, blank=True, default="")
    platform_payee = models.CharField(_("platform's payee"), max_length=64, blank=True, default="")
    ledger_payer = models.CharField(_("ledger's payer"), max_length=64, blank=True, default="")
    ledger_payee = models.CharField(_("ledger's payee"), max_length=64, blank=True, default="")
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    case = models.ForeignKey("DiscrepancyCase", verbose_name=_("case"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="differences")

    class Meta:
        verbose_name = _("end-of-day difference")
        verbose_name_plural = _("end-of-day differences")
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "kind"], name="eoddiff_run_kind_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.order_no or self.key}"


def _system_only(instance, user) -> bool:
    """A step only the end of day takes (no staff user, no button): see services.cases."""
    return False


class DiscrepancyCase(models.Model):
    """A difference someone must close. One per (merchant, business date, kind, key), for good:
    a rerun updates it, closes it (auto_resolve) when the difference is gone, and reopens the
    same case (reopen) when a closed difference comes back or changes, so its whole history
    stays on one audit timeline.

    open ──investigate──▶ investigating
    open | investigating ──resolve | write_off──▶ resolved | written_off   (staff, with a reason)
    open | investigating ──auto_resolve──▶ resolved                        (a rerun: the difference is gone)
    resolved | written_off ──reopen──▶ open                                (a rerun: it came back or changed)
    """

    Kind = DifferenceKind

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        INVESTIGATING = "investigating", _("Investigating")
        RESOLVED = "resolved", _("Resolved")
        WRITTEN_OFF = "written_off", _("Written off")

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    business_date = models.DateField(_("business date"))
    kind = models.CharField(_("kind"), max_length=32, choices=DifferenceKind.choices)
    key = models.CharField(_("key"), max_length=96, blank=True)
    order_type = models.CharField(_("type"), max_length=16, blank=True)
    order_no = models.CharField(_("order number"), max_length=64, blank=True)
    expected_amount = MoneyField(_("platform / bank amount"), null=True, blank=True)
    actual_amount = MoneyField(_("ledger amount"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    status = FSMField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    run = models.ForeignKey(EodRun, verbose_name=_("last seen in run"), null=True, blank=True,
                            on_delete=models.SET_NULL, related_name="cases")
    still_present = models.BooleanField(_("still present in the last run"), default=True)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("closed by"))
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("discrepancy case")
        verbose_name_plural = _("discrepancy cases")
        ordering = ["-business_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "business_date", "kind", "key"],
                                    name="discrepancycase_one_per_difference"),
            models.UniqueConstraint(fields=["merchant", "id"], name="discrepancycase_merchant_id_key"),
        ]
        indexes = [models.Index(fields=["merchant", "status"], name="case_merchant_status_idx")]

    def __str__(self):
        return f"{self.business_date:%Y-%m-%d} {self.get_kind_display()} {self.order_no or self.key}"

    @transition(field=status, source=Status.OPEN, target=Status.INVESTIGATING,
                permission=may("reconciliation.change_discrepancycase"), custom={"label": _("Start investigating")})
    def investigate(self):
        pass

    @transition(field=status, source=[Status.OPEN, Status.INVESTIGATING], target=Status.RESOLVED,
                permission=may("reconciliation.change_discrepancycase"), custom={"label": _("Resolve")})
    def resolve(self):
        pass

    @transition(field=status, source=[Status.OPEN, Status.INVESTIGATING], target=Status.WRITTEN_OFF,
                permission=may("reconciliation.change_discrepancycase"), custom={"label": _("Write off")})
    def write_off(self):
        pass

    @transition(field=status, source=[Status.OPEN, Status.INVESTIGATING], target=Status.RESOLVED,
                permission=_system_only)
    def auto_resolve(self):
        pass

    @transition(field=status, source=[Status.RESOLVED, Status.WRITTEN_OFF], target=Status.OPEN,
                permission=_system_only)
    def reopen(self):
        pass
