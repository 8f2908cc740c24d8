from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.money import MoneyField
from core.permissions import checker, may


class Withdrawal(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        IN_REVIEW = "in_review", _("In review (risk)")  # an outflow rule holds it for a risk officer
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        APPROVED = "approved", _("Approved")
        PROCESSING = "processing", _("Processing")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        REJECTED = "rejected", _("Rejected")

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    member = models.ForeignKey("merchants.Member", verbose_name=_("member"), on_delete=models.PROTECT,
                               related_name="withdrawals")
    bank_card = models.ForeignKey("merchants.BankCard", verbose_name=_("bank card"), on_delete=models.PROTECT,
                                  related_name="+")
    amount = MoneyField(_("amount"))
    order_no = models.CharField(_("order number"), max_length=64)
    status = FSMField(_("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED)
    value_date = models.DateField(_("value date"))
    fingerprint = models.CharField(max_length=64, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("approved or rejected by"))
    reason = models.TextField(_("reason (rejection or failure)"), blank=True)
    bank_reference = models.CharField(_("bank reference"), max_length=64, blank=True)
    # A closing payout: the member's whole balance, approved by a second person; paid, it closes the member.
    closes_member = models.BooleanField(_("closes the member when paid"), default=False)
    request_entry = models.ForeignKey("ledger.JournalEntry", null=True, on_delete=models.PROTECT, related_name="+")
    final_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "order_no"], name="withdrawal_order_no_unique_per_merchant"),
            models.UniqueConstraint(fields=["merchant", "id"], name="withdrawal_merchant_id_key"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="withdrawal_amount_positive"),
        ]
        indexes = [models.Index(fields=["member", "created_at"], name="withdrawal_member_recent_idx")]
        permissions = [
            ("approve_withdrawal", _("Can approve or reject a withdrawal")),
            ("process_withdrawal", _("Can send a withdrawal to the bank and record its outcome")),
        ]

    def __str__(self):
        return f"{self.order_no} {self.amount}"

    @transition(field=status, source=Status.REQUESTED, target=Status.PENDING_APPROVAL)
    def require_approval(self):
        pass

    @transition(field=status, source=Status.REQUESTED, target=Status.APPROVED)
    def auto_approve(self):
        pass

    # Outflow rules (risk): the request waits, its money frozen, for a risk officer's decision;
    # passed, it goes on as it would have (approval above the threshold, else approved).
    @transition(field=status, source=Status.REQUESTED, target=Status.IN_REVIEW,
                custom={"label": _("Held for risk review")})
    def require_review(self):
        pass

    @transition(field=status, source=Status.IN_REVIEW, target=Status.PENDING_APPROVAL,
                custom={"label": _("Approved by risk")})
    def pass_review_to_approval(self):
        pass

    @transition(field=status, source=Status.IN_REVIEW, target=Status.APPROVED,
                custom={"label": _("Approved by risk")})
    def pass_review(self):
        pass

    @transition(field=status, source=Status.IN_REVIEW, target=Status.REJECTED,
                custom={"label": _("Refused by risk")})
    def refuse_review(self):
        pass

    @transition(field=status, source=Status.PENDING_APPROVAL, target=Status.APPROVED,
                permission=checker("ledger.approve_withdrawal", "requested_by_id"), custom={"label": _("Approve")})
    def approve(self):
        pass

    @transition(field=status, source=Status.PENDING_APPROVAL, target=Status.REJECTED,
                permission=checker("ledger.approve_withdrawal", "requested_by_id"), custom={"label": _("Reject")})
    def reject(self):
        pass

    @transition(field=status, source=Status.APPROVED, target=Status.PROCESSING,
                permission=may("ledger.process_withdrawal"), custom={"label": _("Send to bank")})
    def process(self):
        pass

    @transition(field=status, source=Status.PROCESSING, target=Status.PAID,
                permission=may("ledger.process_withdrawal"), custom={"label": _("Mark paid")})
    def mark_paid(self):
        pass

    @transition(field=status, source=Status.PROCESSING, target=Status.FAILED,
                permission=may("ledger.process_withdrawal"), custom={"label": _("Mark failed")})
    def fail(self):
        pass
