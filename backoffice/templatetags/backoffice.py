from django import template

from core.admin_display import STATUS_COLORS
from core.admin_display import money as money_text

register = template.Library()


@register.filter
def money(value):
    """1234567.8 -> 1,234,567.80"""
    return money_text(value)


@register.inclusion_tag("unfold/helpers/label.html")
def badge(status, label=None):
    """A status badge in the admin's colours (the same as every list's status column)."""
    return {"text": label if label is not None else status, "type": STATUS_COLORS.get(str(status), "")}


@register.filter
def signed_class(value):
    try:
        return "bo-neg" if value < 0 else "bo-pos"
    except TypeError:
        return ""


@register.filter
def attr_of(obj, name):
    return getattr(obj, name, None)


@register.filter
def item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
