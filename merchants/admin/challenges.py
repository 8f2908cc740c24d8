"""One-time-code challenges (read-only): what was asked, of whom, and how it ended. No code is shown:
only its keyed hash is stored."""
from django.contrib import admin
from unfold.admin import ModelAdmin

from ..models import Challenge
from ..selectors import merchants_visible_to


@admin.register(Challenge)
class ChallengeAdmin(ModelAdmin):
    list_display = ("token", "merchant", "member", "purpose", "status", "attempts", "sent_to", "expires_at",
                    "created_at")
    list_filter = ("status", "purpose")
    list_select_related = ("merchant", "member")
    search_fields = ("token", "member__user_id", "merchant__code")
    fields = ("token", "merchant", "member", "purpose", "payload", "status", "attempts", "sent_to", "expires_at",
              "confirmed_at", "result_id", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(merchant__in=merchants_visible_to(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
