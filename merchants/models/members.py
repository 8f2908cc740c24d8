"""Members (the platform's users) and their bank cards."""
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.crypto import EncryptedTextField
from core.masking import mask_card, mask_id_number, mask_phone
from core.money import MoneyField
from core.permissions import may

from .merchants import Merchant


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
