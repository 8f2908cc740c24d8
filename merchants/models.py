"""Merchants and members.

A merchant moves draft → submitted → approved | rejected → active ⇄ frozen → closing → closed.
The relationship manager prepares and submits; a risk officer — never the submitter —
approves or rejects; operations activate (which opens the supervision account and issues API
credentials). Members are the platform's users, keyed by the platform's own user id."""
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from core.crypto import EncryptedTextField
from core.masking import mask_card, mask_id_number, mask_phone
from core.money import ZERO, MoneyField
from core.permissions import checker, may

from .uscc import validate_uscc
from .webhook_urls import validate_webhook_url


class BusinessType(models.TextChoices):
    B2C_MALL = "b2c_mall", _("B2C mall")
    B2B_EXCHANGE = "b2b_exchange", _("B2B exchange")
    RURAL_MARKETPLACE = "rural_marketplace", _("Rural marketplace")
    SERVICES = "services", _("Services platform")
    OTHER = "other", _("Other")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class Merchant(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        ACTIVE = "active", _("Active")
        FROZEN = "frozen", _("Frozen")
        CLOSING = "closing", _("Closing")
        CLOSED = "closed", _("Closed")

    code = models.SlugField(_("merchant code"), max_length=32, unique=True)
    legal_name = models.CharField(_("legal name"), max_length=200)
    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc])
    contact_name = models.CharField(_("contact person"), max_length=100)
    contact_phone = models.CharField(_("contact phone"), max_length=32)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    business_type = models.CharField(_("business type"), max_length=32, choices=BusinessType.choices)
    relationship_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("relationship manager"), on_delete=models.PROTECT,
        related_name="managed_merchants",
    )
    risk_level = models.CharField(_("risk level"), max_length=16, choices=RiskLevel.choices, default=RiskLevel.MEDIUM)
    withdrawal_approval_threshold = MoneyField(
        _("withdrawal approval threshold"), default=50000,
        help_text=_("Withdrawals above this amount need an approval (maker-checker)."),
    )
    risk_reserve_required = MoneyField(_("required risk reserve"), default=ZERO)
    guarantee_auto_release_days = models.PositiveSmallIntegerField(
        _("auto-release after (days)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("A guaranteed payment still held this many days after payment is released automatically. "
                    "Empty: the bank's default."),
    )
    webhook_url = models.URLField(_("webhook URL"), blank=True, validators=[validate_webhook_url])
    status = FSMField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("submitted by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("approved or rejected by"),
    )
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    freeze_reason = models.TextField(_("freeze reason"), blank=True)
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True)
    supervision_account_number = models.CharField(
        _("supervision account number"), max_length=32, unique=True, null=True, blank=True
    )
    app_id = models.CharField(_("app id"), max_length=32, unique=True, null=True, blank=True)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["code"]
        permissions = [
            ("submit_merchant", _("Can submit a merchant for approval")),
            ("approve_merchant", _("Can approve or reject a merchant")),
            ("activate_merchant", _("Can activate a merchant (open accounts, issue credentials)")),
            ("freeze_merchant", _("Can freeze and unfreeze a merchant")),
            ("close_merchant", _("Can close a merchant")),
            ("rotate_credentials", _("Can rotate a merchant's API secret")),
        ]
        indexes = [models.Index(fields=["relationship_manager", "status"], name="merchant_rm_status_idx")]

    def __str__(self):
        return f"{self.legal_name} ({self.code})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    # Transitions: state changes only. Their side effects and audit live in merchants.services.
    @transition(field=status, source=[Status.DRAFT, Status.REJECTED], target=Status.SUBMITTED,
                permission=may("merchants.submit_merchant"), custom={"label": _("Submit for approval")})
    def submit(self):
        pass

    @transition(field=status, source=Status.SUBMITTED, target=Status.APPROVED,
                permission=checker("merchants.approve_merchant", "submitted_by_id"), custom={"label": _("Approve")})
    def approve(self):
        pass

    @transition(field=status, source=Status.SUBMITTED, target=Status.REJECTED,
                permission=checker("merchants.approve_merchant", "submitted_by_id"), custom={"label": _("Reject")})
    def reject(self):
        pass

    @transition(field=status, source=Status.APPROVED, target=Status.ACTIVE,
                permission=may("merchants.activate_merchant"), custom={"label": _("Activate")})
    def activate(self):
        pass

    @transition(field=status, source=Status.ACTIVE, target=Status.FROZEN,
                permission=may("merchants.freeze_merchant"), custom={"label": _("Freeze")})
    def freeze(self):
        pass

    @transition(field=status, source=Status.FROZEN, target=Status.ACTIVE,
                permission=may("merchants.freeze_merchant"), custom={"label": _("Unfreeze")})
    def unfreeze(self):
        pass

    @transition(field=status, source=[Status.ACTIVE, Status.FROZEN], target=Status.CLOSING,
                permission=may("merchants.close_merchant"), custom={"label": _("Start closing")})
    def start_closing(self):
        pass

    @transition(field=status, source=Status.CLOSING, target=Status.CLOSED,
                permission=may("merchants.close_merchant"), custom={"label": _("Close")})
    def close(self):
        pass


class ApiSecret(models.Model):
    """One of a merchant's API secrets. Rotation adds a new one and gives the old one an
    expiry (the overlap window); a signed request is accepted under any unexpired secret."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="api_secrets")
    secret = EncryptedTextField(_("secret (encrypted)"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("API secret")
        verbose_name_plural = _("API secrets")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.merchant.code} secret #{self.pk}"


class MemberKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    BUSINESS = "business", _("Business")


class Member(models.Model):
    class Status(models.TextChoices):
        PENDING_VERIFICATION = "pending_verification", _("Pending verification")
        ACTIVE = "active", _("Active")
        FROZEN = "frozen", _("Frozen")
        CLOSED = "closed", _("Closed")

    merchant = models.ForeignKey(Merchant, verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="members")
    user_id = models.CharField(_("platform user id"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=MemberKind.choices)
    name = models.CharField(_("name"), max_length=200)
    id_number = EncryptedTextField(_("identity number"), blank=True)
    id_number_masked = models.CharField(_("identity number"), max_length=64, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    phone_masked = models.CharField(_("phone"), max_length=32, blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    is_buyer = models.BooleanField(_("buyer"), default=False)
    is_seller = models.BooleanField(_("seller"), default=False)
    status = FSMField(_("status"), max_length=24, choices=Status.choices, default=Status.PENDING_VERIFICATION,
                      )
    freeze_reason = models.TextField(_("freeze reason"), blank=True)
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["merchant_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "user_id"], name="member_user_id_unique_per_merchant"),
        ]
        permissions = [("freeze_member", _("Can freeze and unfreeze a member"))]

    def __str__(self):
        return f"{self.name} ({self.user_id})"

    @property
    def roles(self) -> list[str]:
        return [r for r, on in (("buyer", self.is_buyer), ("seller", self.is_seller)) if on]

    def set_identity(self, *, id_number: str = "", phone: str = ""):
        from core.crypto import blind_index

        self.id_number, self.id_number_masked = id_number, mask_id_number(id_number)
        self.phone, self.phone_masked = phone, mask_phone(phone)
        self.phone_index = blind_index(phone) if phone else ""

    @transition(field=status, source=Status.PENDING_VERIFICATION, target=Status.ACTIVE,
                custom={"label": _("Verify")})
    def verify(self):
        pass

    @transition(field=status, source=Status.ACTIVE, target=Status.FROZEN,
                permission=may("merchants.freeze_member"), custom={"label": _("Freeze")})
    def freeze(self):
        pass

    @transition(field=status, source=Status.FROZEN, target=Status.ACTIVE,
                permission=may("merchants.freeze_member"), custom={"label": _("Unfreeze")})
    def unfreeze(self):
        pass

    @transition(field=status, source=[Status.PENDING_VERIFICATION, Status.ACTIVE, Status.FROZEN],
                target=Status.CLOSED, permission=may("merchants.freeze_member"), custom={"label": _("Close")})
    def close(self):
        pass


class MicroDeposit(models.TextChoices):
    """Where the bank's micro-deposit to a corporate account stands (blank: the card needs none)."""
    PENDING = "pending", _("To be sent")
    SENT = "sent", _("Sent")
    PAID = "paid", _("Paid")
    RETURNED = "returned", _("Returned")


class BankCard(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="bank_cards")
    account_number = EncryptedTextField(_("account number"))
    masked_number = models.CharField(_("account number"), max_length=40)
    account_name = models.CharField(_("account name"), max_length=200)
    bank_name = models.CharField(_("bank"), max_length=200)
    verified = models.BooleanField(_("verified"), default=False)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    micro_deposit_amount = MoneyField(_("micro-deposit amount"), null=True, blank=True, editable=False)
    micro_deposit_status = models.CharField(_("micro-deposit"), max_length=16, choices=MicroDeposit.choices,
                                            blank=True, editable=False)
    micro_deposit_return_reason = models.CharField(_("micro-deposit return reason"), max_length=200, blank=True,
                                                   editable=False)
    verify_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    MAX_VERIFY_ATTEMPTS = 5

    class Meta:
        verbose_name = _("bank card")
        verbose_name_plural = _("bank cards")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.bank_name} {self.masked_number}"

    def set_number(self, number: str):
        self.account_number, self.masked_number = number, mask_card(number)


from .models_webhooks import WebhookAttempt, WebhookDelivery  # noqa: E402,F401  webhooks (merchants.webhooks)
