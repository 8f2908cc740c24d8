import datetime
import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..parsing import FIELDS, STANDARD_DIRECTIONS, layout_from_data
from ..parsing.cells import flag_key

DIRECTION_CHOICES = ("in", "out")
_MAX_PATTERN = 200


class StatementLayout(models.Model):
    """How one bank writes its statement export, on top of the standard table (STATEMENTS.md):
    extra header words per field, date formats, direction values, footer patterns and which
    column(s) make the bank reference. Operations add and edit these in the admin; the built-in
    ones come from reconciliation/parsing/builtin_layouts.json through a data migration. A layout
    is switched off, never deleted: every import records the layout it was read with."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=120)
    active = models.BooleanField(_("active"), default=True,
                                 help_text=_("Only active layouts are tried when a file is imported."))
    built_in = models.BooleanField(_("built in"), default=False, editable=False)
    priority = models.PositiveSmallIntegerField(_("priority"), default=100,
                                                help_text=_("When two layouts read a header equally well, the "
                                                            "lower number wins."))
    headers = models.JSONField(_("header words"), default=dict, blank=True,
                               help_text=_("Per field, the header texts this bank uses besides the standard ones."))
    required_headers = models.JSONField(_("required headers"), default=list, blank=True,
                                        help_text=_("The layout is recognised only when the header has all of "
                                                    "these columns."))
    date_formats = models.JSONField(_("date formats"), default=list, blank=True,
                                    help_text=_("Extra date formats (Python strptime), e.g. %Y年%m月%d日."))
    direction_values = models.JSONField(_("direction values"), default=dict, blank=True,
                                        help_text=_("Extra values of the direction column: value → in or out."))
    footer_patterns = models.JSONField(_("footer patterns"), default=list, blank=True,
                                       help_text=_("Regular expressions: a row whose first cell or reference "
                                                   "matches is a footer or summary row and is skipped."))
    reference_columns = models.JSONField(_("reference columns"), default=list, blank=True,
                                         help_text=_("Headers of the bank reference, in order of preference."))
    reference_composite = models.BooleanField(
        _("composite reference"), default=False,
        help_text=_("Join every reference column present (A-B) instead of taking the first: for banks whose "
                    "single reference columns are not unique per account."))
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("statement layout")
        verbose_name_plural = _("statement layouts")
        ordering = ["priority", "code"]

    def __str__(self):
        return self.name

    def as_layout(self):
        return layout_from_data(self.as_data(), pk=self.pk)

    def as_data(self) -> dict:
        return {name: getattr(self, name) for name in (
            "code", "name", "priority", "headers", "required_headers", "date_formats", "direction_values",
            "footer_patterns", "reference_columns", "reference_composite")}

    def clean(self):
        errors = {}
        headers = self.headers or {}
        if not isinstance(headers, dict) or any(
                f not in FIELDS or not _strings(words) for f, words in headers.items()):
            errors["headers"] = _("Give a list of header texts for each field; fields: %(fields)s.") % {
                "fields": ", ".join(FIELDS)}
        for name in ("required_headers", "date_formats", "footer_patterns", "reference_columns"):
            if not _strings(getattr(self, name) or []):
                errors[name] = _("Give a list of texts.")
        for fmt in self.date_formats or []:
            if isinstance(fmt, str) and not _round_trips(fmt):
                errors["date_formats"] = _("“%(format)s” is not a date format with a year, month and day.") % {
                    "format": fmt}
        for pattern in self.footer_patterns or []:
            try:
                re.compile(pattern)
            except (re.error, TypeError):
                errors["footer_patterns"] = _("“%(pattern)s” is not a regular expression.") % {"pattern": pattern}
            else:
                if len(pattern) > _MAX_PATTERN or re.compile(pattern).match(""):
                    errors["footer_patterns"] = _("“%(pattern)s” would match every row (or is too long).") % {
                        "pattern": pattern}
        values = self.direction_values or {}
        if not isinstance(values, dict) or any(v not in DIRECTION_CHOICES for v in values.values()):
            errors["direction_values"] = _("Each direction value must be “in” or “out”.")
        else:
            for value, meaning in values.items():
                standard = STANDARD_DIRECTIONS.get(flag_key(value))
                if not flag_key(value) or (standard is not None and standard != (1 if meaning == "in" else -1)):
                    # The standard table is the bank's own books (贷 = money in); a layout that
                    # reversed it would read outflows as inflows.
                    errors["direction_values"] = _("“%(value)s” already means the opposite in the standard "
                                                   "table and cannot be redefined.") % {"value": value}
        if errors:
            raise ValidationError(errors)


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _round_trips(fmt: str) -> bool:
    sample = datetime.date(2026, 11, 24)
    try:
        return datetime.datetime.strptime(sample.strftime(fmt), fmt).date() == sample
    except ValueError:
        return False
