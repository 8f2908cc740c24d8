"""The admin's look (django-unfold): a sidebar grouped by job, where each link shows only to
those who may open it; the admin index is the per-role dashboard (backoffice.dashboard); the
language switch (Simplified Chinese / English) sits in the user menu."""
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from backoffice.navigation import can, can_see_performance, is_superuser


def _item(title, icon, url_name, *perms, **extra):
    return {"title": title, "icon": icon, "link": reverse_lazy(url_name), "permission": can(*perms), **extra}


def _changelist(title, icon, model, **extra):
    app_label, model_name = model.split(".")
    return _item(title, icon, f"admin:{app_label}_{model_name}_changelist", f"{app_label}.view_{model_name}", **extra)


UNFOLD = {
    "SITE_TITLE": _("Jianguan supervision portal"),
    "SITE_HEADER": _("Jianguan 监管"),
    "SITE_SYMBOL": "account_balance",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "SHOW_LANGUAGES": True,
    "DASHBOARD_CALLBACK": "backoffice.dashboard.dashboard_callback",
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": [
            {"title": _("Today"), "separator": False, "items": [
                {"title": _("Dashboard"), "icon": "dashboard", "link": reverse_lazy("admin:index")},
                {"title": _("Complaint look-up"), "icon": "support_agent",
                 "link": reverse_lazy("backoffice:complaints"), "permission": can("backoffice.lookup_complaint")},
            ]},
            {"title": _("Merchants"), "separator": True, "collapsible": True, "items": [
                _changelist(_("Merchants"), "storefront", "merchants.merchant"),
                _changelist(_("Members"), "group", "merchants.member"),
                _changelist(_("Webhook deliveries"), "webhook", "merchants.webhookdelivery"),
            ]},
            {"title": _("Accounts & money"), "separator": True, "collapsible": True, "items": [
                _changelist(_("Accounts"), "account_balance_wallet", "ledger.account"),
                _changelist(_("Journal entries"), "receipt_long", "ledger.journalentry"),
                _changelist(_("Deposits"), "savings", "ledger.deposit"),
                _changelist(_("Payments"), "payments", "ledger.payment"),
                _changelist(_("Refunds"), "undo", "ledger.refund"),
                _changelist(_("Withdrawals"), "outbound", "ledger.withdrawal"),
                _changelist(_("Holds"), "lock", "ledger.hold"),
                _changelist(_("Payment channels"), "hub", "ledger.paymentchannel"),
                _changelist(_("Business calendar"), "calendar_month", "ledger.businessday"),
            ]},
            {"title": _("Credit"), "separator": True, "collapsible": True, "items": [
                _changelist(_("Credit applications"), "request_quote", "credit.creditapplication"),
                _changelist(_("Credit lines"), "credit_score", "credit.creditline"),
                _changelist(_("Credit bills"), "receipt", "credit.creditbill"),
                _changelist(_("Credit notices"), "notifications", "credit.creditnotification",
                            badge="credit.selectors.unread_notifications_badge"),
            ]},
            {"title": _("Reconciliation"), "separator": True, "collapsible": True, "items": [
                _changelist(_("Statement imports"), "upload_file", "reconciliation.statementbatch"),
                _changelist(_("Exception queue"), "report", "reconciliation.exceptionqueueitem"),
                _changelist(_("Statement lines"), "list_alt", "reconciliation.statementline"),
                _changelist(_("Statement layouts"), "table_view", "reconciliation.statementlayout"),
                _changelist(_("Order files"), "description", "reconciliation.orderfile"),
                _changelist(_("End-of-day runs"), "event_available", "reconciliation.eodrun"),
                _changelist(_("Discrepancy cases"), "rule", "reconciliation.discrepancycase"),
            ]},
            {"title": _("Reports"), "separator": True, "collapsible": True, "items": [
                {"title": _("RM performance"), "icon": "leaderboard", "link": reverse_lazy("backoffice:performance"),
                 "permission": can_see_performance},
                _changelist(_("Performance snapshots"), "inventory", "backoffice.performancesnapshot"),
                _changelist(_("Background jobs"), "pending_actions", "backoffice.backgroundjob"),
            ]},
            {"title": _("Audit"), "separator": True, "collapsible": True, "items": [
                _changelist(_("Audit events"), "policy", "core.auditevent"),
                {"title": _("Staff users"), "icon": "badge", "link": reverse_lazy("admin:auth_user_changelist"),
                 "permission": is_superuser},
                {"title": _("Roles"), "icon": "shield_person", "link": reverse_lazy("admin:auth_group_changelist"),
                 "permission": is_superuser},
            ]},
        ],
    },
}
