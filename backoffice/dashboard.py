"""The admin index as a dashboard per role (UNFOLD["DASHBOARD_CALLBACK"])."""
from django.urls import reverse

from .selectors.dashboards import dashboards_for


def dashboard_callback(request, context):
    dashboards = dashboards_for(request.user, request.GET)
    context.update({
        "dashboards": dashboards,
        "charts": {name: chart for name, chart in (
            ("rm_balance", getattr(dashboards.get("rm"), "balance_chart", None)),
            ("risk_aging", getattr(dashboards.get("risk"), "aging_chart", None)),
        ) if chart},
        "complaint_url": reverse("backoffice:complaints"),
        "can_lookup": request.user.has_perm("backoffice.lookup_complaint"),
    })
    return context
