from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.money import MoneyField
from core.permissions import may


class StatementBatch(models.Model):
    """One imported file. A refused file is kept (status refused, with its errors) so staff can
    see who tried to import what and why it was refused; none of its lines is stored."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        VALIDATED = "validated", _("Validated")
        POSTED = "posted", _("Posted")
        REFUSED = "refused", _("Refused")

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    account_number = models.CharField(_("supervision account number"), max_length=32)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    sha256 = models.CharField(_("file SHA-256"), max_length=64, blank=True)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    columns = models.JSONField(_("columns read"), default=dict, blank=True)
    file_format = models.CharField(_("file format"), max_length=8, blank=True)
    layout = models.ForeignKey("reconciliation.StatementLayout", verbose_name=_("layout"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+",
                               help_text=_("Empty: read with the standard layout (STATEMENTS.md)."))
    statement_account = models.CharField(_("account number in the file"), max_length=40, blank=True)
    period_start = models.DateField(_("period from (file)"), null=True, blank=True)
    period_end = models.DateField(_("period to (file)"), null=True, blank=True)
    status = FSMField(_("status"), max_length=16, choices=Status.choices, default=Status.UPLOADED)
    rows = models.PositiveIntegerField(_("data rows"), default=0)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    matched = models.PositiveIntegerField(_("matched"), default=0)
    unmatched = models.PositiveIntegerField(_("unmatched"), default=0)
    skipped_summary = models.PositiveIntegerField(_("summary rows skipped"), default=0)
    skipped_zero = models.PositiveIntegerField(_("zero-amount lines skipped"), default=0)
    progress = models.PositiveIntegerField(_("lines read"), default=0)
    closing_balance = MoneyField(_("bank closing balance"), null=True, blank=True)
    first_value_date = models.DateField(_("first value date"), null=True, blank=True)
    last_value_date = models.DateField(_("last value date"), null=True, blank=True)
    business_date = models.DateField(_("business date"), null=True, blank=True, db_index=True,
                                     help_text=_("The business date of the statement's last value date."))
    errors = models.JSONField(_("errors"), default=list, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("statement import")
        verbose_name_plural = _("statement imports")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["merchant", "id"], name="statementbatch_merchant_id_key")]
        indexes = [models.Index(fields=["merchant", "account_number", "last_value_date"],
                                name="stmtbatch_account_day_idx")]

    def __str__(self):
        return f"#{self.pk} {self.file_name or self.account_number}"

    @transition(field=status, source=Status.UPLOADED, target=Status.VALIDATED)
    def validate(self):
        pass

    @transition(field=status, source=Status.VALIDATED, target=Status.POSTED)
    def post(self):
        pass

    @transition(field=status, source=Status.UPLOADED, target=Status.REFUSED)
    def refuse(self):
        pass


class StatementLine(models.Model):
    """One line of the bank's statement: evidence, never edited (see the models docstring)."""

    class Status(models.TextChoices):
        UNMATCHED = "unmatched", _("Unmatched (exception queue)")
        MATCHED = "matched", _("Matched")
        POSTED = "posted", _("Posted")
        IGNORED = "ignored", _("Ignored")
        RETURNED = "returned", _("Returned to payer")

    # Evidence (immutable on PostgreSQL).
    # On PostgreSQL the composite keys (merchant_id, batch_id) → batch, (merchant_id, deposit_id) →
    # deposit, … (migration 0004) prove these references and the same merchant besides (the
    # batch's own key proves the merchant); single-column constraints would repeat each check
    # for every line of a 100,000-line file at commit, so they are not created.
    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+", db_constraint=False)
    batch = models.ForeignKey(StatementBatch, verbose_name=_("import"), on_delete=models.PROTECT,
                              related_name="lines", db_constraint=False)
    account_number = models.CharField(_("supervision account number"), max_length=32)
    line_no = models.PositiveIntegerField(_("line"))
    bank_reference = models.CharField(_("bank reference"), max_length=64)
    value_date = models.DateField(_("value date"))
    business_date = models.DateField(_("business date"))
    amount = MoneyField(_("amount (+ in, − out)"))
    counterparty_name = models.CharField(_("counterparty"), max_length=200, blank=True)
    counterparty_account = models.CharField(_("counterparty account"), max_length=64, blank=True)
    counterparty_bank = models.CharField(_("counterparty bank"), max_length=200, blank=True)
    remark = models.TextField(_("remark"), blank=True)
    balance = MoneyField(_("balance after"), null=True, blank=True)
    created_at = models.DateTimeField(_("imported at"), default=timezone.now)
    # Workflow (the only columns that change).
    status = FSMField(_("status"), max_length=16, choices=Status.choices, default=Status.UNMATCHED)
    note = models.CharField(_("why it waits"), max_length=255, blank=True)
    candidate_deposit = models.ForeignKey("ledger.Deposit", verbose_name=_("possible deposit"), null=True,
                                          blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    deposit = models.ForeignKey("ledger.Deposit", verbose_name=_("deposit"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+", db_constraint=False)
    withdrawal = models.ForeignKey("ledger.Withdrawal", verbose_name=_("withdrawal"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+", db_constraint=False)
    member = models.ForeignKey("merchants.Member", verbose_name=_("member"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    suspense_entry = models.ForeignKey("ledger.JournalEntry", verbose_name=_("parked by entry"), null=True,
                                       blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    entry = models.ForeignKey("ledger.JournalEntry", verbose_name=_("booked by entry"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+", db_constraint=False)
    reason = models.TextField(_("reason"), blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("resolved by"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    EVIDENCE_COLUMNS = ("merchant_id", "batch_id", "account_number", "line_no", "bank_reference", "value_date",
                        "business_date", "amount", "counterparty_name", "counterparty_account",
                        "counterparty_bank", "remark", "balance", "created_at")

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["batch_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "account_number", "bank_reference"],
                                    name="statementline_reference_unique_per_account"),
            models.CheckConstraint(condition=~Q(amount=0), name="statementline_amount_not_zero"),
        ]
        indexes = [
            models.Index(fields=["merchant", "status"], name="stmtline_queue_idx"),
            models.Index(fields=["merchant", "account_number", "value_date"], name="stmtline_account_day_idx"),
        ]
        permissions = [("match_statementline", _("Can match, return or ignore statement lines"))]

    def __str__(self):
        return f"{self.bank_reference} {self.amount}"

    @property
    def is_money_in(self) -> bool:
        return self.amount > 0

    @transition(field=status, source=Status.UNMATCHED, target=Status.POSTED,
                permission=may("reconciliation.match_statementline"), custom={"label": _("Match")})
    def match_and_post(self):
        pass

    @transition(field=status, source=Status.UNMATCHED, target=Status.MATCHED,
                permission=may("reconciliation.match_statementline"), custom={"label": _("Match to withdrawal")})
    def match(self):
        pass

    @transition(field=status, source=Status.UNMATCHED, target=Status.RETURNED,
                permission=may("reconciliation.match_statementline"), custom={"label": _("Return to payer")})
    def return_to_payer(self):
        pass

    @transition(field=status, source=Status.UNMATCHED, target=Status.IGNORED,
                permission=may("reconciliation.match_statementline"), custom={"label": _("Ignore")})
    def ignore(self):
        pass


class ExceptionQueueItem(StatementLine):
    """The exception queue: the statement lines waiting for a person (a screen of its own)."""

    class Meta:
        proxy = True
        verbose_name = _("exception queue line")
        verbose_name_plural = _("exception queue")
