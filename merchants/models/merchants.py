"""Merchants (the platforms) and their API secrets."""
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from core.crypto import EncryptedTextField
from core.money import ZERO, MoneyField
from core.permissions import checker, may

from ..uscc import validate_uscc
from ..webhook_urls import validate_webhook_url


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
    otp_for_withdrawals = models.BooleanField(
        _("withdrawals need a one-time code"), default=False,
        help_text=_("The member confirms each withdrawal with a code sent to their phone."),
    )
    otp_for_releases = models.BooleanField(
        _("releases need a one-time code"), default=False,
        help_text=_("The payer confirms each release of a guaranteed payment from escrow with a code sent to their "
                    "phone."),
    )
    otp_payments_above = MoneyField(
        _("payments above this need a one-time code"), null=True, blank=True, validators=[MinValueValidator(0)],
        help_text=_("The payer confirms each payment of more than this amount with a code sent to their phone. "
                    "Empty: no payment needs one."),
    )
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
