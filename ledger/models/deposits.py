from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.crypto import EncryptedTextField
from core.money import MoneyField


class PaymentChannel(models.Model):
    """A third-party payment channel of the bank (多渠道接入); its notifications prove deposits."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    app_id = models.CharField(_("channel app id"), max_length=64, unique=True)
    secret = EncryptedTextField(_("signing secret (encrypted)"))
    enabled = models.BooleanField(_("enabled"), default=True)
    # The account the channel pays its settlements from: a money-in statement line from it
    # settles deposits the channel's notifications already credited (reconciliation matching).
    settlement_account = models.CharField(
        _("settlement account number"), max_length=64, blank=True, default="", db_default="",
        help_text=_("The channel's own bank account that settles collected money to the supervision accounts."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("payment channel")
        verbose_name_plural = _("payment channels")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Deposit(models.Model):
    """Money announced and credited on bank-side proof. For a member (their available balance), or
    for the platform's risk reserve (风险保证金, purpose risk_reserve: no member; the reserve account
    up, booked as a RESERVE_DEPOSIT entry, and on a statement line only when the payer is the
    platform itself), or for the platform's own account (purpose platform: no member; its fee
    income up, a PLATFORM_DEPOSIT entry, paid by the platform itself too) — the platform's own
    money, which pays e.g. the micro-deposits that verify its corporate members' accounts."""

    class Purpose(models.TextChoices):
        MEMBER = "member", _("For a member")
        RISK_RESERVE = "risk_reserve", _("For the platform's risk reserve")
        PLATFORM = "platform", _("For the platform's own account")

    class Method(models.TextChoices):
        OFFLINE_TRANSFER = "offline_transfer", _("Offline bank transfer")
        CHANNEL = "channel", _("Payment channel")

    class Status(models.TextChoices):
        AWAITING_FUNDS = "awaiting_funds", _("Awaiting funds")
        SUCCEEDED = "succeeded", _("Succeeded")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.MEMBER,
                               db_default=Purpose.MEMBER)
    member = models.ForeignKey("merchants.Member", verbose_name=_("member"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="deposits")
    amount = MoneyField(_("expected amount"))
    order_no = models.CharField(_("order number"), max_length=64)
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    channel = models.ForeignKey(PaymentChannel, verbose_name=_("channel"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="deposits")
    # Unique per merchant (see Meta): a code is matched on the merchant's own supervision account.
    payment_code = models.CharField(_("payment code"), max_length=12)
    status = FSMField(_("status"), max_length=20, choices=Status.choices, default=Status.AWAITING_FUNDS)
    entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    proof_kind = models.CharField(_("proof"), max_length=20, blank=True)  # statement_line | channel_notification
    proof_reference = models.CharField(_("proof reference"), max_length=128, blank=True)
    credited_at = models.DateTimeField(_("credited at"), null=True, blank=True)
    # A channel deposit is credited on the channel's notification, before the money reaches
    # the supervision account; the channel's settlement line on the statement settles it later.
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    settlement_reference = models.CharField(_("settlement bank reference"), max_length=128, blank=True,
                                            default="", db_default="")
    settlement_value_date = models.DateField(_("settlement value date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("deposit")
        verbose_name_plural = _("deposits")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "order_no"], name="deposit_order_no_unique_per_merchant"),
            models.UniqueConstraint(fields=["merchant", "id"], name="deposit_merchant_id_key"),
            models.UniqueConstraint(fields=["merchant", "payment_code"],
                                    name="deposit_payment_code_unique_per_merchant"),
            models.CheckConstraint(
                condition=(models.Q(purpose="member", member__isnull=False)
                           | models.Q(purpose__in=["risk_reserve", "platform"], member__isnull=True)),
                name="deposit_names_a_member_unless_platform_money"),
        ]
        indexes = [models.Index(fields=["merchant", "channel"], name="deposit_channel_unsettled_idx",
                                condition=models.Q(proof_kind="channel_notification", settled_at__isnull=True))]

    def __str__(self):
        return f"{self.payment_code} {self.amount}"

    @property
    def for_platform(self) -> bool:
        """The platform's own money (its risk reserve or its own account), paid by the platform itself."""
        return self.purpose != self.Purpose.MEMBER

    @property
    def for_reserve(self) -> bool:
        return self.purpose == self.Purpose.RISK_RESERVE

    @transition(field=status, source=Status.AWAITING_FUNDS, target=Status.SUCCEEDED)
    def succeed(self):
        pass

    @transition(field=status, source=Status.AWAITING_FUNDS, target=Status.CANCELLED)
    def cancel(self):
        pass

    @transition(field=status, source=Status.AWAITING_FUNDS, target=Status.EXPIRED)
    def expire(self):
        """Never paid in time: no proof can credit it any more (money for it goes to suspense)."""
