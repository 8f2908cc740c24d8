from django.db import models
from django.utils.translation import gettext_lazy as _


class BusinessDay(models.Model):
    """Exceptions to the default calendar (Monday–Friday working): public holidays and the
    make-up working weekends (调休) the State Council announces each year."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("business calendar day")
        verbose_name_plural = _("business calendar")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {'working' if self.is_working_day else 'holiday'} {self.note}"
