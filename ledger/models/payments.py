from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.money import ZERO, MoneyField


class Payment(models.Model):
    class Mode(models.TextChoices):
        DIRECT = "direct", _("Direct")
        GUARANTEED = "guaranteed", _("Guaranteed (escrow)")

    class Status(models.TextChoices):
        SETTLED = "settled", _("Settled")
        HELD = "held", _("Held in escrow")
        RELEASED = "released", _("Released")
        REFUNDED = "refunded", _("Refunded")

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    order_no = models.CharField(_("order number"), max_length=64)
    payer = models.ForeignKey("merchants.Member", verbose_name=_("payer"), on_delete=models.PROTECT,
                              related_name="payments_made")
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    amount = MoneyField(_("amount"))
    platform_fee = MoneyField(_("platform fee"), default=ZERO)
    refunded_amount = MoneyField(_("refunded"), default=ZERO)
    description = models.CharField(_("description"), max_length=255, blank=True)
    status = FSMField(_("status"), max_length=16, choices=Status.choices)
    fingerprint = models.CharField(max_length=64, editable=False)  # of the request, to tell a replay from a reuse
    entry = models.ForeignKey("ledger.JournalEntry", null=True, on_delete=models.PROTECT, related_name="+")
    release_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    auto_release_at = models.DateTimeField(_("auto-release at"), null=True, blank=True, db_index=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "order_no"], name="payment_order_no_unique_per_merchant"),
            models.UniqueConstraint(fields=["merchant", "id"], name="payment_merchant_id_key"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=models.Q(platform_fee__gte=0, platform_fee__lt=models.F("amount")),
                                   name="payment_fee_within_amount"),
            models.CheckConstraint(condition=models.Q(refunded_amount__gte=0, refunded_amount__lte=models.F("amount")),
                                   name="payment_refunds_within_amount"),
        ]

    def __str__(self):
        return f"{self.order_no} {self.amount}"

    @property
    def refundable(self):
        return self.amount - self.refunded_amount

    @transition(field=status, source=Status.HELD, target=Status.RELEASED)
    def release(self):
        pass

    @transition(field=status, source=[Status.HELD, Status.RELEASED, Status.SETTLED], target=Status.REFUNDED)
    def refund_fully(self):
        pass


class PaymentSplit(models.Model):
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="splits")
    payee = models.ForeignKey("merchants.Member", verbose_name=_("payee"), on_delete=models.PROTECT,
                              related_name="payments_received")
    amount = MoneyField(_("amount"))
    refunded_amount = MoneyField(_("refunded"), default=ZERO)

    class Meta:
        verbose_name = _("payment split")
        verbose_name_plural = _("payment splits")
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="split_amount_positive")]


class Refund(models.Model):
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = MoneyField(_("amount"))
    reason = models.CharField(_("reason"), max_length=255)
    idempotency_ref = models.CharField(max_length=128)
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "idempotency_ref"], name="refund_ref_unique_per_merchant"),
        ]
