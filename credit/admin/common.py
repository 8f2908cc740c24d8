"""Pieces the credit screens share."""
from django.contrib import messages
from django.utils.translation import gettext_lazy as _

from merchants.selectors import merchants_visible_to


def visible(qs, request):
    """Rows of the merchants the user may see (an RM: their own portfolio)."""
    return qs.filter(merchant__in=merchants_visible_to(request.user))


def refuse(model_admin, request, err):
    model_admin.message_user(request, _("Refused: %(message)s") % {"message": err.message}, level=messages.ERROR)


class ReadOnlyMixin:
    """Rows written only by services: no add, change or delete through the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
