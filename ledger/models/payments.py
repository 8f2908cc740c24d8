from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.money import ZERO, MoneyField
from core.permissions import may

RELEASE_PERMISSION = "ledger.release_payment"  # staff releasing in the admin; platforms release by the API


class Payment(models.Model):
    class Mode(models.TextChoices):
        DIRECT = "direct", _("Direct")
        GUARANTEED = "guaranteed", _("Guaranteed (escrow)")

    class Status(models.TextChoices):
        SETTLED = "settled", _("Settled")
        HELD = "held", _("Held in escrow")
        PARTIALLY_RELEASED = "partially_released", _("Partially released")
        RELEASED = "released", _("Released")
        REFUNDED = "refunded", _("Refunded")
        # Outflow rules (risk): booked nothing yet, the payer's money held until a risk officer decides.
        IN_REVIEW = "in_review", _("In review (risk)")
        REFUSED = "refused", _("Refused (risk)")

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    order_no = models.CharField(_("order number"), max_length=64)
    payer = models.ForeignKey("merchants.Member", verbose_name=_("payer"), on_delete=models.PROTECT,
                              related_name="payments_made")
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    amount = MoneyField(_("amount"))
    platform_fee = MoneyField(_("platform fee"), default=ZERO)
    refunded_amount = MoneyField(_("refunded"), default=ZERO)
    # What the payees hold of a guaranteed payment: released, less refunds taken back from
    # them. amount − released − refunded is what is still in escrow (never below zero).
    released_amount = MoneyField(_("released"), default=ZERO)
    description = models.CharField(_("description"), max_length=255, blank=True)
    status = FSMField(_("status"), max_length=24, choices=Status.choices)
    fingerprint = models.CharField(max_length=64, editable=False)  # of the request, to tell a replay from a reuse
    entry = models.ForeignKey("ledger.JournalEntry", null=True, on_delete=models.PROTECT, related_name="+")
    # The entry of the release that emptied escrow (the last part). Every part, with its own entry,
    # is a PaymentRelease (payment.releases): the admin, the complaint look-up and the receipts list them.
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
            models.CheckConstraint(
                condition=models.Q(released_amount__gte=0,
                                   released_amount__lte=models.F("amount") - models.F("refunded_amount")),
                name="payment_released_plus_refunded_within_amount"),
        ]
        indexes = [models.Index(fields=["payer", "created_at"], name="payment_payer_recent_idx")]
        permissions = [("release_payment", _("Can release a guaranteed payment (in full or in part)"))]

    def __str__(self):
        return f"{self.order_no} {self.amount}"

    @property
    def booked(self) -> bool:
        """Its entry is booked: not waiting in risk review, nor refused there."""
        return self.status not in (self.Status.IN_REVIEW, self.Status.REFUSED)

    @property
    def refundable(self):
        return self.amount - self.refunded_amount if self.booked else ZERO

    @property
    def held_amount(self):
        """Still in escrow: what a release can pay out, and what a refund takes first."""
        if self.mode != self.Mode.GUARANTEED or not self.booked:
            return ZERO
        return self.amount - self.released_amount - self.refunded_amount

    # A payment an outflow rule put in review: risk's decision (risk.services.reviews checks who may).
    @transition(field=status, source=Status.IN_REVIEW, target=Status.SETTLED, custom={"label": _("Approved by risk")})
    def pass_review_settle(self):
        pass

    @transition(field=status, source=Status.IN_REVIEW, target=Status.HELD, custom={"label": _("Approved by risk")})
    def pass_review_hold(self):
        pass

    @transition(field=status, source=Status.IN_REVIEW, target=Status.REFUSED, custom={"label": _("Refused by risk")})
    def refuse_review(self):
        pass

    @transition(field=status, source=[Status.HELD, Status.PARTIALLY_RELEASED], target=Status.PARTIALLY_RELEASED,
                permission=may(RELEASE_PERMISSION), custom={"label": _("Release in part")})
    def release_partially(self):
        pass

    @transition(field=status, source=[Status.HELD, Status.PARTIALLY_RELEASED], target=Status.RELEASED,
                permission=may(RELEASE_PERMISSION), custom={"label": _("Release")})
    def release(self):
        pass

    @transition(field=status, source=Status.PARTIALLY_RELEASED, target=Status.RELEASED)
    def close_escrow(self):
        """A refund took the last of escrow; the rest of the payment is with the payees."""

    @transition(field=status, source=[Status.HELD, Status.PARTIALLY_RELEASED, Status.RELEASED, Status.SETTLED],
                target=Status.REFUNDED)
    def refund_fully(self):
        pass


class PaymentSplit(models.Model):
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="splits")
    payee = models.ForeignKey("merchants.Member", verbose_name=_("payee"), on_delete=models.PROTECT,
                              related_name="payments_received")
    amount = MoneyField(_("amount"))
    refunded_amount = MoneyField(_("refunded"), default=ZERO)
    released_amount = MoneyField(_("released"), default=ZERO)  # as Payment.released_amount, for this payee

    class Meta:
        verbose_name = _("payment split")
        verbose_name_plural = _("payment splits")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="split_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__gte=0, released_amount__gte=0,
                                   released_amount__lte=models.F("amount") - models.F("refunded_amount")),
                name="split_released_plus_refunded_within_amount"),
        ]

    @property
    def held_amount(self):
        return self.amount - self.released_amount - self.refunded_amount


class PaymentRelease(models.Model):
    """One release (a part or the whole remainder) of a guaranteed payment: its own journal
    entry (escrow → payees and fee income), numbered per payment; `idempotency_ref` makes one
    request book once."""

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="releases")
    sequence = models.PositiveIntegerField(_("part"))
    amount = MoneyField(_("amount"))
    platform_fee = MoneyField(_("platform fee"), default=ZERO)
    shares = models.JSONField(_("payees"), default=list)  # [{"user_id", "amount"}] of this part
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    idempotency_ref = models.CharField(max_length=128)
    fingerprint = models.CharField(max_length=64, editable=False)  # of the request, to tell a replay from a reuse
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("payment release")
        verbose_name_plural = _("payment releases")
        ordering = ["payment", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "idempotency_ref"], name="release_ref_unique_per_merchant"),
            models.UniqueConstraint(fields=["merchant", "payment", "sequence"], name="release_sequence_unique_per_payment"),
            models.CheckConstraint(condition=models.Q(amount__gt=0, platform_fee__gte=0,
                                                      platform_fee__lte=models.F("amount")),
                                   name="release_amount_positive_fee_within"),
        ]

    def __str__(self):
        return f"{self.payment_id} #{self.sequence} {self.amount}"


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
