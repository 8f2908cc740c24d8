"""Payout batches and their lines.

A batch belongs to one merchant (its debtor is that merchant's supervision account) and one
value date. Workflow: draft → submitted → released → partially settled → settled; cancelled
from draft or submitted. `partially_settled`: the bank has answered some lines; `settled`: it
has answered every line (each line says paid or returned). Maker-checker: the releaser is
neither the builder (created_by) nor the submitter.

A line is one payment: a withdrawal, or a card's micro-deposit. `live` is true while the line's
batch is not cancelled; a partial unique index keeps each withdrawal and each card's
micro-deposit in at most one live batch, whatever two builds running at once decide."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, transition

from core.crypto import EncryptedTextField
from core.masking import mask_card
from core.money import MoneyField
from core.permissions import may


def _releaser(instance, user) -> bool:
    """Maker-checker: the release permission, and neither the builder nor the submitter."""
    return (user.is_active and user.has_perm("payouts.release_payoutbatch")
            and user.pk not in (instance.created_by_id, instance.submitted_by_id))


class PayoutBatch(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for approval")
        RELEASED = "released", _("Released (file issued)")
        PARTIALLY_SETTLED = "partially_settled", _("Partially settled")
        SETTLED = "settled", _("Settled")
        CANCELLED = "cancelled", _("Cancelled")

    LIVE = (Status.DRAFT, Status.SUBMITTED, Status.RELEASED, Status.PARTIALLY_SETTLED, Status.SETTLED)

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    reference = models.CharField(_("batch reference"), max_length=32, unique=True)
    value_date = models.DateField(_("value date"))
    status = FSMField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    control_sum = MoneyField(_("control sum"), default=0)
    count = models.PositiveIntegerField(_("number of payments"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("built by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved and released by"),
                                    null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    released_at = models.DateTimeField(pgettext_lazy("payout batch", "released at"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(control_sum__gte=0), name="payout_batch_control_sum_not_negative"),
        ]
        permissions = [
            ("build_payoutbatch", _("Can build, submit and cancel payout batches")),
            ("release_payoutbatch", _("Can approve and release a payout batch built by someone else")),
            ("settle_payoutbatch", _("Can record the bank's answer to a payout batch")),
        ]

    def __str__(self):
        return self.reference

    @transition(field=status, source=Status.DRAFT, target=Status.SUBMITTED,
                permission=may("payouts.build_payoutbatch"), custom={"label": _("Submit for approval")})
    def submit(self):
        pass

    @transition(field=status, source=Status.SUBMITTED, target=Status.RELEASED, permission=_releaser,
                custom={"label": _("Approve and release")})
    def release(self):
        pass

    @transition(field=status, source=[Status.DRAFT, Status.SUBMITTED], target=Status.CANCELLED,
                permission=may("payouts.build_payoutbatch"), custom={"label": _("Cancel")})
    def cancel(self):
        pass

    @transition(field=status, source=[Status.RELEASED, Status.PARTIALLY_SETTLED], target=Status.PARTIALLY_SETTLED,
                permission=may("payouts.settle_payoutbatch"))
    def settle_partly(self):
        pass

    @transition(field=status, source=[Status.RELEASED, Status.PARTIALLY_SETTLED], target=Status.SETTLED,
                permission=may("payouts.settle_payoutbatch"))
    def settle(self):
        pass


class PayoutLine(models.Model):
    class Kind(models.TextChoices):
        WITHDRAWAL = "withdrawal", _("Withdrawal")
        MICRO_DEPOSIT = "micro_deposit", _("Micro-deposit")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        RETURNED = "returned", _("Returned")

    batch = models.ForeignKey(PayoutBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="lines")
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    withdrawal = models.ForeignKey("ledger.Withdrawal", verbose_name=_("withdrawal"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    bank_card = models.ForeignKey("merchants.BankCard", verbose_name=_("bank card"), on_delete=models.PROTECT,
                                  related_name="+")
    amount = MoneyField(_("amount"))
    payee_name = models.CharField(_("payee account name"), max_length=200)
    payee_account_number = EncryptedTextField(_("payee account number"))
    payee_masked_number = models.CharField(_("payee account number"), max_length=40)
    payee_bank = models.CharField(_("payee bank"), max_length=200)
    purpose = models.CharField(_("purpose"), max_length=140)
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=35, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    return_reason = models.CharField(_("return reason"), max_length=200, blank=True)
    bank_reference = models.CharField(_("bank reference"), max_length=64, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    live = models.BooleanField(default=True, editable=False)

    class Meta:
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["withdrawal"], condition=Q(live=True, kind="withdrawal"),
                                    name="payout_withdrawal_in_one_live_batch"),
            models.UniqueConstraint(fields=["bank_card"], condition=Q(live=True, kind="micro_deposit"),
                                    name="payout_micro_deposit_in_one_live_batch"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_line_amount_positive"),
            models.CheckConstraint(condition=Q(kind="micro_deposit") | Q(withdrawal__isnull=False),
                                   name="payout_withdrawal_line_names_its_withdrawal"),
        ]

    def __str__(self):
        return self.end_to_end_id

    def set_payee_number(self, number: str):
        self.payee_account_number, self.payee_masked_number = number, mask_card(number)
