from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CreditNotification(models.Model):
    """Something the merchant's relationship manager must see in the admin (an overdue bill
    and the line it suspended). One per bill and kind, so a rerun of the sweep adds none."""

    class Kind(models.TextChoices):
        BILL_OVERDUE = "bill_overdue", _("Bill overdue, line suspended")

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("relationship manager"), null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="credit_notifications")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    line = models.ForeignKey("credit.CreditLine", verbose_name=_("credit line"), on_delete=models.PROTECT,
                             related_name="+")
    bill = models.ForeignKey("credit.CreditBill", verbose_name=_("bill"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    message = models.CharField(_("message"), max_length=255)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("credit notification")
        verbose_name_plural = _("credit notifications")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "bill", "kind"], condition=Q(bill__isnull=False),
                                    name="credit_notification_once_per_bill_and_kind"),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="credit_notif_inbox_idx")]

    def __str__(self):
        return self.message
