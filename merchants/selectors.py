"""Reads shared by the admin, the API and reports."""
from .models import Member, Merchant


def can_see_all_merchants(user) -> bool:
    return user.is_superuser or user.has_perm("core.view_all_merchants")


def merchants_visible_to(user):
    """A relationship manager sees the merchants assigned to them; risk, operations and
    auditors (permission core.view_all_merchants) see all."""
    qs = Merchant.objects.all()
    if can_see_all_merchants(user):
        return qs
    return qs.filter(relationship_manager=user)


def members_visible_to(user):
    qs = Member.objects.select_related("merchant")
    if can_see_all_merchants(user):
        return qs
    return qs.filter(merchant__relationship_manager=user)
