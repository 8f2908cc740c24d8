"""One-time codes: a member confirms an outflow (a withdrawal, a release from escrow, a large payment)
with a code sent to their phone.

The challenge holds what the platform asked for (its validated payload) and a keyed hash of the
code, never the code; it is short-lived, single-use and attempt-limited (merchants.services.challenges)."""
from django.db import models
from django.utils.translation import gettext_lazy as _

from .members import Member
from .merchants import Merchant


class Challenge(models.Model):
    class Purpose(models.TextChoices):
        WITHDRAWAL = "withdrawal", _("Withdrawal")
        PAYMENT = "payment", _("Payment")
        RELEASE = "release", _("Release from escrow")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the code")
        CONFIRMED = "confirmed", _("Confirmed")
        LOCKED = "locked", _("Locked (too many wrong codes)")

    token = models.CharField(_("challenge id"), max_length=40, unique=True)
    merchant = models.ForeignKey(Merchant, verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="challenges")
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    payload = models.JSONField(_("request"), default=dict)
    code_hash = models.CharField(max_length=64, editable=False)
    sent_to = models.CharField(_("sent to"), max_length=32)  # the masked phone
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("wrong codes"), default=0)
    expires_at = models.DateTimeField(_("expires at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    result_id = models.BigIntegerField(_("booked as"), null=True, blank=True)  # e.g. the withdrawal's id
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("one-time code challenge")
        verbose_name_plural = _("one-time code challenges")
        ordering = ["-id"]

    def __str__(self):
        return self.token
