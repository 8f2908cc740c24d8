"""The admin's look (django-unfold)."""
from django.utils.translation import gettext_lazy as _

UNFOLD = {
    "SITE_TITLE": _("Jianguan supervision portal"),
    "SITE_HEADER": _("Jianguan 监管"),
    "SITE_SYMBOL": "account_balance",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "SIDEBAR": {"show_search": True, "show_all_applications": True},
}
