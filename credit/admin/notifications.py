from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from core.errors import ApplicationError
from merchants.selectors import can_see_all_merchants

from .. import services
from ..models import CreditNotification
from .common import ReadOnlyMixin, refuse


class ReadFilter(admin.SimpleListFilter):
    title = _("read")
    parameter_name = "read"

    def lookups(self, request, model_admin):
        return (("no", _("Unread")), ("yes", _("Read")))

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(read_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(read_at__isnull=False)
        return queryset


@admin.register(CreditNotification)
class CreditNotificationAdmin(ReadOnlyMixin, ModelAdmin):
    """The RM's inbox: overdue bills of their merchants (bank-wide roles see all)."""

    list_display = ("created_at", "merchant", "message", "bill", "recipient", "read_at")
    list_filter = (ReadFilter, "kind", "merchant")
    list_select_related = ("merchant", "bill", "recipient")
    fields = ("merchant", "kind", "message", "line", "bill", "recipient", "created_at", "read_at")
    readonly_fields = fields
    actions = ["mark_read"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if can_see_all_merchants(request.user):
            return qs
        return qs.filter(recipient=request.user)

    @admin.action(description=_("Mark as read"))
    def mark_read(self, request, queryset):
        for notification in queryset.filter(read_at__isnull=True):
            try:
                services.credit_notification_mark_read(notification=notification, actor=request.user)
            except ApplicationError as err:
                refuse(self, request, err)
                return
