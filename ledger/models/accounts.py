from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import ZERO, MoneyField


class AccountKind(models.TextChoices):
    SUPERVISION = "supervision", _("Supervision account")
    FEE_INCOME = "fee_income", _("Platform fee income")
    ESCROW = "escrow", _("Escrow / pending clearing")
    SUSPENSE = "suspense", _("Suspense (unidentified inflows)")
    RISK_RESERVE = "risk_reserve", _("Risk reserve")
    MEMBER_AVAILABLE = "member_available", _("Member available")
    MEMBER_FROZEN = "member_frozen", _("Member frozen")


PLATFORM_KINDS = (AccountKind.SUPERVISION, AccountKind.FEE_INCOME, AccountKind.ESCROW, AccountKind.SUSPENSE,
                  AccountKind.RISK_RESERVE)
MEMBER_KINDS = (AccountKind.MEMBER_AVAILABLE, AccountKind.MEMBER_FROZEN)
# Touched by nearly every movement: credited without a row lock (see HotBalanceDelta).
HOT_KINDS = (AccountKind.SUPERVISION, AccountKind.ESCROW, AccountKind.FEE_INCOME)


class Account(models.Model):
    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="accounts")
    member = models.ForeignKey("merchants.Member", verbose_name=_("member"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(_("kind"), max_length=24, choices=AccountKind.choices)
    is_hot = models.BooleanField(_("hot account"), default=False, editable=False)
    balance = MoneyField(_("materialised balance"), default=ZERO, editable=False)
    frozen = models.BooleanField(_("frozen (in only, nothing out)"), default=False)
    freeze_reason = models.TextField(_("freeze reason"), blank=True)
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["merchant_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "kind"], condition=Q(member__isnull=True),
                                    name="account_one_platform_account_per_kind"),
            models.UniqueConstraint(fields=["merchant", "member", "kind"], condition=Q(member__isnull=False),
                                    name="account_one_member_account_per_kind"),
            models.UniqueConstraint(fields=["merchant", "id"], name="account_merchant_id_key"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="account_balance_never_negative"),
            models.CheckConstraint(
                condition=(Q(kind__in=MEMBER_KINDS, member__isnull=False)
                           | Q(kind__in=PLATFORM_KINDS, member__isnull=True)),
                name="account_member_accounts_have_a_member",
            ),
        ]
        permissions = [("freeze_account", _("Can freeze and unfreeze an account"))]

    def __str__(self):
        owner = self.member.user_id if self.member_id else self.merchant.code
        return f"{owner} · {self.get_kind_display()}"

    @property
    def is_asset(self) -> bool:
        return self.kind == AccountKind.SUPERVISION

    @property
    def natural_sign(self) -> int:
        """+1 for the asset (debits raise it), -1 for liabilities (credits raise them)."""
        return 1 if self.is_asset else -1


class EntryType(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    SUSPENSE_IN = "suspense_in", _("Unidentified inflow to suspense")
    SUSPENSE_MATCH = "suspense_match", _("Suspense matched")
    SUSPENSE_RETURN = "suspense_return", _("Suspense returned to payer")
    PAYMENT = "payment", _("Payment")
    PAYMENT_HOLD = "payment_hold", _("Guaranteed payment held in escrow")
    PAYMENT_RELEASE = "payment_release", _("Guaranteed payment released")
    REFUND = "refund", _("Refund")
    WITHDRAWAL_REQUEST = "withdrawal_request", _("Withdrawal requested (funds frozen)")
    WITHDRAWAL_PAID = "withdrawal_paid", _("Withdrawal paid")
    WITHDRAWAL_RETURN = "withdrawal_return", _("Withdrawal returned")
    MICRO_DEPOSIT = "micro_deposit", _("Micro-deposit for card verification")
    HOLD = "hold", _("Amount frozen")
    HOLD_RELEASE = "hold_release", _("Amount unfrozen")
    REVERSAL = "reversal", _("Reversal")
    CREDIT_DRAWDOWN = "credit_drawdown", _("Credit drawdown")
    CREDIT_REPAYMENT = "credit_repayment", _("Credit repayment")
    ADJUSTMENT = "adjustment", _("Adjustment")
    RESERVE_DEPOSIT = "reserve_deposit", _("Risk reserve funded")
    PLATFORM_DEPOSIT = "platform_deposit", _("Platform's own account funded")
    RESERVE_COMPENSATION = "reserve_compensation", _("Compensation from the risk reserve")
    RESERVE_RELEASE = "reserve_release", _("Risk reserve released")


# The only movements that may take money out of a risk reserve account: a compensation a risk
# officer and a second approver decided, and the release when the merchant closes. Every platform
# operation (payments, releases, withdrawals, fee moves, reversals) is refused by the posting engine
# (ledger.posting.validated_legs) and, on PostgreSQL, by a trigger on the account row
# (ledger.sql.integrity.RESERVE_DEBIT_GUARD).
RESERVE_DEBIT_TYPES = (EntryType.RESERVE_COMPENSATION, EntryType.RESERVE_RELEASE)


class JournalEntry(models.Model):
    # No index of its own: (merchant, id), (merchant, idempotency_ref) and the day index lead with it.
    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+", db_index=False)
    entry_type = models.CharField(_("type"), max_length=24, choices=EntryType.choices)
    idempotency_ref = models.CharField(_("idempotency reference"), max_length=128)
    order_no = models.CharField(_("order number"), max_length=64, blank=True, db_index=True)
    payer = models.ForeignKey("merchants.Member", verbose_name=_("payer"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    payee = models.ForeignKey("merchants.Member", verbose_name=_("payee"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    order_amount = MoneyField(_("order amount"), null=True, blank=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    actor_kind = models.CharField(_("actor kind"), max_length=16)
    actor_label = models.CharField(_("actor"), max_length=150)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    business_date = models.DateField(_("business date"), db_index=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # A foreign key, not a one-to-one: "reversed at most once" is the unique constraint below,
    # scoped by merchant like every key of the ledger (the tables can be distributed by merchant).
    reverses = models.ForeignKey("self", verbose_name=_("reverses"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="reversed_by")

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "idempotency_ref"], name="entry_idempotency_ref_unique_per_merchant"),
            models.UniqueConstraint(fields=["merchant", "id"], name="entry_merchant_id_key"),
            models.UniqueConstraint(fields=["merchant", "reverses"], name="entry_reversed_once_per_merchant"),
        ]
        indexes = [models.Index(fields=["merchant", "business_date", "entry_type"], name="entry_merchant_day_idx")]
        permissions = [("reverse_entry", _("Can reverse a journal entry"))]

    def __str__(self):
        return f"#{self.pk} {self.get_entry_type_display()} {self.order_no}"


class Posting(models.Model):
    # On PostgreSQL the composite keys (merchant_id, entry_id) → entry and (merchant_id,
    # account_id) → account (ledger migration 0002) prove all three references, and the
    # same merchant besides; the single-column constraints would only repeat those checks
    # for every posting at commit, so they are not created (db_constraint=False).
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+",
                                 db_constraint=False)
    entry = models.ForeignKey(JournalEntry, verbose_name=_("entry"), on_delete=models.PROTECT, related_name="postings",
                              db_constraint=False)
    # No index of its own: posting_account_recent_idx (account, -id) leads with it.
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="postings",
                                db_index=False, db_constraint=False)
    amount = MoneyField(_("amount (debit +, credit −)"))
    balance_after = MoneyField(_("balance after"), null=True, blank=True,
                               help_text=_("Empty on hot accounts, whose balance is rolled up."))

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="posting_amount_not_zero")]
        indexes = [models.Index(fields=["account", "-id"], name="posting_account_recent_idx")]

    def __str__(self):
        return f"{self.account_id} {self.amount}"


class HotBalanceDelta(models.Model):
    """A change to a hot account's balance not yet folded into account.balance. Inserted in
    the posting's transaction without locking the account; the roll-up deletes and adds them."""

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    change = MoneyField()

    class Meta:
        indexes = [models.Index(fields=["account"], name="hotdelta_account_idx")]
