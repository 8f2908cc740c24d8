"""Back-office rows: the RM performance snapshots (frozen figures of a finished period), the
records of long work started from the admin (statement imports, end-of-day runs) and of the
nightly integrity check the operations dashboard watches."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import ZERO, MoneyField


class BackOffice(models.Model):
    """No table: holds the back office's own permissions (they belong to no row)."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("back office")
        permissions = [
            ("lookup_complaint", _("Can use the complaint look-up")),
            ("view_rm_performance", _("Can see every relationship manager's performance")),
        ]


class PerformanceSnapshot(models.Model):
    """One RM's figures for one period, as computed the night after the period ended. Later
    corrections to the ledger never change it: the screen shows it beside the live figures."""

    period = models.CharField(_("period"), max_length=8, db_index=True)  # 2026-11, 2026Q4, 2026
    period_start = models.DateField(_("first day"))
    period_end = models.DateField(_("last day"))
    relationship_manager = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("relationship manager"),
                                             on_delete=models.PROTECT, related_name="+")
    merchants_managed = models.PositiveIntegerField(_("merchants managed"), default=0)
    merchants_activated = models.PositiveIntegerField(_("newly activated"), default=0)
    average_daily_balance = MoneyField(_("average daily balance"), default=ZERO)
    period_end_balance = MoneyField(_("period-end balance"), default=ZERO)
    inflow_amount = MoneyField(_("inflow"), default=ZERO)
    inflow_count = models.PositiveIntegerField(_("inflow count"), default=0)
    payment_amount = MoneyField(_("payment volume"), default=ZERO)
    payment_count = models.PositiveIntegerField(_("payment count"), default=0)
    credit_granted_count = models.PositiveIntegerField(_("credit lines granted"), default=0)
    credit_granted_amount = MoneyField(_("credit granted"), default=ZERO)
    credit_used_amount = MoneyField(_("credit used"), default=ZERO)
    overdue_amount = MoneyField(_("overdue"), default=ZERO)
    reserve_balance = MoneyField(_("risk reserve, period end"), default=ZERO)
    reserve_shortfall = MoneyField(_("risk reserve shortfall"), default=ZERO)
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now)
    taken_by = models.CharField(_("taken by"), max_length=150)

    class Meta:
        verbose_name = _("RM performance snapshot")
        verbose_name_plural = _("RM performance snapshots")
        ordering = ["-period_end", "relationship_manager_id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "relationship_manager"],
                                    name="performance_snapshot_once_per_rm_and_period"),
        ]

    def __str__(self):
        return f"{self.period} {self.relationship_manager_id}"


class BackgroundJob(models.Model):
    """Long work started from the admin and run by Celery. The row tells its state (written
    outside the work's own transaction, so other requests see it); lines read so far go to
    the cache while it runs (backoffice.jobs)."""

    class Kind(models.TextChoices):
        STATEMENT_IMPORT = "statement_import", _("Statement import")
        END_OF_DAY = "end_of_day", _("End of day")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Finished")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    business_date = models.DateField(_("business date"), null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("started by"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    params = models.JSONField(default=dict, blank=True)
    task_id = models.CharField(max_length=64, blank=True, db_index=True)
    progress = models.PositiveIntegerField(_("lines read"), default=0)
    result = models.JSONField(_("result"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-id"]
        indexes = [models.Index(fields=["kind", "merchant", "business_date"], name="job_kind_merchant_day_idx")]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()} {self.get_status_display()}"

    @property
    def done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class IntegrityCheck(models.Model):
    """One run of the full proof of the books (ledger.integrity.first_break: the audit hash
    chain, every entry's balance, every balance against its postings, total = sum of parts), as
    the nightly beat task ran it. The operations dashboard alerts when the latest one did not
    pass, or when none passed recently. The whole bank's books, not one merchant's."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Integrity break")
        ERROR = "error", _("Could not finish")

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    check_name = models.CharField(_("check"), max_length=64, blank=True)
    location = models.CharField(_("where"), max_length=255, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    actor_label = models.CharField(_("run by"), max_length=150)

    class Meta:
        verbose_name = _("integrity check")
        verbose_name_plural = _("integrity checks")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def ok(self) -> bool:
        return self.status == self.Status.PASSED
