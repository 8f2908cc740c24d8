"""Statement layouts: how each bank writes its export, kept by operations without code.

The form shows each list as one item per line (and header words as "field: word, word"), so
nobody edits JSON by hand; saving goes through services.layouts.statement_layout_save, which
validates the layout and records the change. Layouts are switched off, never deleted."""
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.widgets import UnfoldAdminTextareaWidget

from ..models import StatementLayout
from ..parsing import FIELDS, STANDARD_DIRECTIONS, STANDARD_HEADERS
from ..services.layouts import statement_layout_save
from .statements import COLUMN_LABELS

_LIST_FIELDS = ("required_headers", "date_formats", "footer_patterns", "reference_columns")


def _area(label, help_text, rows=4):
    return forms.CharField(label=label, help_text=help_text, required=False,
                           widget=UnfoldAdminTextareaWidget(attrs={"rows": rows, "class": "font-mono"}))


class StatementLayoutForm(forms.ModelForm):
    headers_text = _area(_("Header words"), _("One field per line: “field: header, header”. Fields: %(fields)s.")
                         % {"fields": ", ".join(FIELDS)}, rows=10)
    required_headers_text = _area(_("Required headers"), _("One header per line; empty: recognised by its words."))
    date_formats_text = _area(_("Date formats"), _("One Python strptime format per line, e.g. %Y年%m月%d日 or "
                                                   "%d/%m/%Y (2026-11-24, 2026/11/24 and 20261124, with or "
                                                   "without a time, are always read)."))
    direction_values_text = _area(_("Direction values"), _("One per line: “value = in” or “value = out”, e.g. "
                                                           "“1 = in” where the bank documents it."))
    footer_patterns_text = _area(_("Footer patterns"), _("One regular expression per line, matched at the start "
                                                         "of a row's first cell or reference."))
    reference_columns_text = _area(_("Reference columns"), _("One header per line, in order of preference."))

    class Meta:
        model = StatementLayout
        fields = ("code", "name", "active", "priority", "reference_composite", "notes")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        layout = self.instance
        self.fields["headers_text"].initial = "\n".join(
            f"{name}: {', '.join(words)}" for name, words in (layout.headers or {}).items())
        for name in _LIST_FIELDS:
            self.fields[f"{name}_text"].initial = "\n".join(getattr(layout, name) or [])
        self.fields["direction_values_text"].initial = "\n".join(
            f"{value} = {meaning}" for value, meaning in (layout.direction_values or {}).items())

    def clean_headers_text(self):
        headers = {}
        for number, line in enumerate(_lines(self.cleaned_data["headers_text"]), start=1):
            name, sep, words = line.partition(":")
            name = name.strip()
            if not sep or name not in FIELDS:
                raise forms.ValidationError(_("Line %(n)s: write “field: header, header” with a field among: "
                                              "%(fields)s.") % {"n": number, "fields": ", ".join(FIELDS)})
            headers[name] = headers.get(name, []) + [w.strip() for w in words.replace("，", ",").split(",")
                                                     if w.strip()]
        return headers

    def clean_direction_values_text(self):
        values = {}
        for number, line in enumerate(_lines(self.cleaned_data["direction_values_text"]), start=1):
            value, sep, meaning = line.rpartition("=")
            if not sep or meaning.strip() not in ("in", "out") or not value.strip():
                raise forms.ValidationError(_("Line %(n)s: write “value = in” or “value = out”.") % {"n": number})
            values[value.strip()] = meaning.strip()
        return values

    def _post_clean(self):
        data = self.cleaned_data
        if "headers_text" in data:
            self.instance.headers = data["headers_text"]
        if "direction_values_text" in data:
            self.instance.direction_values = data["direction_values_text"]
        for name in _LIST_FIELDS:
            if f"{name}_text" in data:
                setattr(self.instance, name, _lines(data[f"{name}_text"]))
        super()._post_clean()  # the model's clean() checks what the layout now says

    def _update_errors(self, errors):
        # The model names its JSON fields; the form shows them as one-item-per-line texts.
        if hasattr(errors, "error_dict"):
            errors = ValidationError({(f"{name}_text" if f"{name}_text" in self.fields else name): value
                                      for name, value in errors.error_dict.items()})
        super()._update_errors(errors)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@admin.register(StatementLayout)
class StatementLayoutAdmin(ModelAdmin):
    form = StatementLayoutForm
    list_display = ("name", "code", "active", "built_in", "priority", "words", "updated_at")
    list_filter = ("active", "built_in")
    search_fields = ("code", "name", "notes")
    readonly_fields = ("built_in", "updated_at", "standard_table")
    fieldsets = (
        (None, {"fields": ("code", "name", "active", "priority", "built_in", "notes")}),
        (_("How the bank writes its export"), {"fields": (
            "headers_text", "required_headers_text", "reference_columns_text", "reference_composite",
            "date_formats_text", "direction_values_text", "footer_patterns_text")}),
        (_("The standard table (always read, cannot be changed)"), {"fields": ("standard_table", "updated_at")}),
    )

    @admin.display(description=_("header words"))
    def words(self, obj):
        return sum(len(words) for words in (obj.headers or {}).values())

    @admin.display(description=_("standard header words and direction values"))
    def standard_table(self, obj):
        rows = [(COLUMN_LABELS.get(name, name), ", ".join(words)) for name, words in STANDARD_HEADERS.items()]
        rows.append((_("direction values"), ", ".join(
            f"{value} = {'in' if sign > 0 else 'out'}" for value, sign in STANDARD_DIRECTIONS.items())))
        return format_html('<table class="text-sm">{}</table>', format_html_join(
            "", '<tr><th class="text-left pr-3 align-top">{}</th><td>{}</td></tr>', rows))

    def has_delete_permission(self, request, obj=None):
        return False  # imports refer to the layout they were read with: switch it off instead

    def save_model(self, request, obj, form, change):
        statement_layout_save(layout=obj, actor=request.user, changed=list(form.changed_data))
