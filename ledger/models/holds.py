from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.money import MoneyField
from core.permissions import may


class Hold(models.Model):
    """An amount of a member's money frozen by risk (or by a court: 司法冻结), with a reason."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RELEASED = "released", _("Released")

    merchant = models.ForeignKey("merchants.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT,
                                 related_name="+")
    member = models.ForeignKey("merchants.Member", verbose_name=_("member"), on_delete=models.PROTECT,
                               related_name="holds")
    amount = MoneyField(_("amount"))
    reason = models.TextField(_("reason"))
    legal_reference = models.CharField(_("legal reference"), max_length=100, blank=True)
    status = FSMField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    release_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        ordering = ["-id"]
        permissions = [("release_hold", _("Can release a hold"))]

    def __str__(self):
        return f"{self.member} {self.amount}"

    @transition(field=status, source=Status.ACTIVE, target=Status.RELEASED, permission=may("ledger.release_hold"),
                custom={"label": _("Release")})
    def release(self):
        pass
