"""Reference data operations keep: the business calendar and the payment channels. The forms
validate; the services write and audit."""
from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import display
from unfold.widgets import UnfoldAdminPasswordWidget

from ..models import BusinessDay, PaymentChannel
from ..services.calendar import business_day_set
from ..services.channels import payment_channel_create, payment_channel_update


class _ServiceSavedAdmin(ModelAdmin):
    """Add and change forms whose save goes through a service; never deleted."""

    def has_delete_permission(self, request, obj=None):
        return False

    def save_related(self, request, form, formsets, change):
        pass  # no related rows are written through these forms

    def save_model(self, request, obj, form, change):
        # The form ran the same checks (uniqueness, required fields, the add/change permission),
        # so a service error here is a race with another user and rolls the request back.
        saved = self.save_through_service(request, obj, form, change)
        obj.pk = saved.pk

    def save_through_service(self, request, obj, form, change):
        raise NotImplementedError


@admin.register(BusinessDay)
class BusinessDayAdmin(_ServiceSavedAdmin):
    list_display = ("date", "weekday", "day_kind", "note")
    list_filter = ("is_working_day",)
    search_fields = ("note",)
    date_hierarchy = "date"
    fields = ("date", "is_working_day", "note")

    def get_readonly_fields(self, request, obj=None):
        return ("date",) if obj is not None else ()

    @display(description=_("weekday"))
    def weekday(self, obj):
        return obj.date.strftime("%A")

    @display(description=_("kind"), label={_("working day"): "success", _("holiday"): "warning"})
    def day_kind(self, obj):
        return _("working day") if obj.is_working_day else _("holiday")

    def save_through_service(self, request, obj, form, change):
        return business_day_set(actor=request.user, day=obj.date, is_working_day=obj.is_working_day, note=obj.note)


class PaymentChannelForm(forms.ModelForm):
    new_secret = forms.CharField(
        label=_("Signing secret"), required=False, strip=True,
        widget=UnfoldAdminPasswordWidget(render_value=False),
        help_text=_("Write-only: stored encrypted and never shown again. Leave empty to keep the current one."),
    )

    class Meta:
        model = PaymentChannel
        fields = ("code", "name", "app_id", "settlement_account", "enabled")

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not data.get("new_secret"):
            self.add_error("new_secret", _("A new channel needs its signing secret."))
        return data


@admin.register(PaymentChannel)
class PaymentChannelAdmin(_ServiceSavedAdmin):
    form = PaymentChannelForm
    list_display = ("code", "name", "app_id", "enabled", "created_at")
    list_filter = ("enabled",)
    search_fields = ("code", "name", "app_id")
    fields = ("code", "name", "app_id", "settlement_account", "new_secret", "enabled", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return ("code", "created_at") if obj is not None else ("created_at",)

    def save_through_service(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            return payment_channel_update(channel=obj, actor=request.user, name=data["name"], app_id=data["app_id"],
                                          enabled=data["enabled"], secret=data.get("new_secret") or None,
                                          settlement_account=data.get("settlement_account", ""))
        return payment_channel_create(actor=request.user, code=data["code"], name=data["name"],
                                      app_id=data["app_id"], secret=data["new_secret"], enabled=data["enabled"],
                                      settlement_account=data.get("settlement_account", ""))
