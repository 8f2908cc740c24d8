"""Webhook deliveries and their attempts (read-only), with a "resend" action for operations."""
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from core.admin_display import status_badge
from core.errors import ApplicationError

from ..models import WebhookAttempt, WebhookDelivery
from ..selectors import merchants_visible_to
from ..services.webhooks import webhook_resend


class WebhookAttemptInline(TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("number", "started_at", "url", "status_code", "succeeded", "duration_ms", "error", "response_excerpt")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ModelAdmin):
    list_display = ("created_at", "merchant", "event_type", "status_badge", "attempts", "last_status_code",
                    "next_attempt_at", "event_id")
    list_filter = ("status", "event_type", "merchant")
    list_select_related = ("merchant",)
    search_fields = ("event_id", "event_type", "merchant__code", "merchant__legal_name")
    date_hierarchy = "created_at"
    fields = ("merchant", "event_id", "event_type", "status", "attempts", "next_attempt_at", "last_status_code",
              "last_error", "created_at", "delivered_at", "payload")
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["resend"]
    status_badge = status_badge()

    def get_queryset(self, request):
        return super().get_queryset(request).filter(merchant__in=merchants_visible_to(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        return request.user.has_perm("merchants.resend_webhookdelivery")

    @admin.action(description=_("Resend the selected events"), permissions=["resend"])
    def resend(self, request, queryset):
        count = 0
        for delivery in queryset:
            try:
                webhook_resend(delivery=delivery, actor=request.user, reason="admin resend")
            except ApplicationError as err:
                self.message_user(request, _("Refused: %(message)s") % {"message": err.message}, messages.ERROR)
                return
            count += 1
        self.message_user(request, _("%(count)d event(s) queued for delivery.") % {"count": count}, messages.SUCCESS)
