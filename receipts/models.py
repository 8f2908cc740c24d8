"""A Receipt is the record of one issued 电子回单: created the first time the movement's receipt is
issued (by a platform through the API or by staff in the admin), then the same row, and so the
same number, for every later download. It keeps what the public verification page shows — the
amount, kind, business date and the parties already masked — so that page reads one row and
never the personal data behind it."""
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import MoneyField


class ReceiptKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    RELEASE = "release", _("Release of a guaranteed payment")
    REFUND = "refund", _("Refund")
    DEPOSIT = "deposit", _("Deposit")
    WITHDRAWAL = "withdrawal", _("Withdrawal")


class Receipt(models.Model):
    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=ReceiptKind.choices)
    # The movement's id: the payment, refund, deposit or withdrawal; for a release, its journal entry
    # (a guaranteed payment may be released in several parts, each its own entry).
    movement_id = models.PositiveBigIntegerField(_("movement"))
    number = models.CharField(_("receipt number"), max_length=32)
    amount = MoneyField(_("amount"))
    order_no = models.CharField(_("order number"), max_length=64)
    business_date = models.DateField(_("business date"))
    booked_at = models.DateTimeField(_("booked at"))
    payer_masked = models.CharField(_("payer (masked)"), max_length=255)
    payee_masked = models.CharField(_("payee (masked)"), max_length=255)
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "movement_id"], name="receipt_one_per_movement"),
            models.UniqueConstraint(fields=["number"], name="receipt_number_unique"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="receipt_amount_positive"),
        ]

    def __str__(self):
        return self.number
