"""Members and their bank cards (read-only but for freeze, unfreeze and close)."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from core.admin_display import status_badge
from core.admin_workflow import WorkflowAdminMixin

from ..models import BankCard, Member
from ..selectors import members_visible_to
from ..services.members import member_close, member_freeze, member_unfreeze


class BankCardInline(TabularInline):
    model = BankCard
    extra = 0
    can_delete = False
    fields = ("masked_number", "account_name", "bank_name", "verified", "verified_at", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Member)
class MemberAdmin(WorkflowAdminMixin, ModelAdmin):
    workflow_object_arg = "member"
    workflow = {
        "freeze": (member_freeze, True),
        "unfreeze": (member_unfreeze, True),
        "close": (member_close, True),
    }
    list_display = ("user_id", "name", "merchant", "kind", "roles_display", "status_badge", "phone_masked",
                    "created_at")
    list_filter = ("status", "kind", "merchant")
    list_select_related = ("merchant",)
    search_fields = ("user_id", "name", "merchant__code")
    status_badge = status_badge()
    inlines = [BankCardInline]
    fields = ("merchant", "user_id", "name", "kind", "id_number_masked", "phone_masked", "is_buyer", "is_seller",
              "status", "freeze_reason", "frozen_at", "created_at")
    readonly_fields = fields

    @admin.display(description=_("roles"))
    def roles_display(self, obj):
        return ", ".join(str(_(r)) for r in obj.roles)

    def get_queryset(self, request):
        return members_visible_to(request.user)

    def has_add_permission(self, request):
        return False  # platforms register their members through the API

    def has_delete_permission(self, request, obj=None):
        return False
