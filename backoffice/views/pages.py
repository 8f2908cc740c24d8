"""Merchant 360 and the complaint look-up."""
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from core.admin_display import money
from merchants.models import Merchant

from ..selectors import merchant360
from ..selectors.complaints import mask_query
from ..selectors.dashboards import chart
from ..services import complaint_lookup as lookup_service
from .common import render_admin


def merchant_360(request, pk: int):
    if not request.user.has_perm("merchants.view_merchant"):
        raise Http404
    data = merchant360.merchant_360(request.user, pk)
    merchant_admin = admin.site._registry.get(Merchant)
    transitions = merchant_admin.allowed_transitions(request, data.merchant) if merchant_admin else []
    series = data.balance_series
    return render_admin(request, "backoffice/merchant_360.html", {
        "m": data, "merchant": data.merchant, "transitions": transitions,
        "charts": {"balance_history": chart("line", [d.isoformat() for d, _v in series],
                                            [{"label": _("Supervision balance"), "data": [v for _d, v in series]}])},
        "proof_rows": [(_("Supervision account"), money(data.totals.supervision_balance)),
                       (_("Sum of virtual accounts"), money(data.totals.virtual_total)),
                       (_("Members (available + frozen)"), money(data.member_total)),
                       (_("Escrow"), money(data.balances.get("escrow"))),
                       (_("Fee income"), money(data.balances.get("fee_income"))),
                       (_("Suspense"), money(data.balances.get("suspense"))),
                       (_("Risk reserve"), money(data.balances.get("risk_reserve"))),
                       (_("Hot-account changes not yet rolled up (included above)"),
                        str(data.totals.pending_changes))],
    }, title=_("Merchant 360: %(name)s") % {"name": data.merchant.legal_name})


def complaint_lookup(request):
    if not request.user.has_perm("backoffice.lookup_complaint"):
        raise PermissionDenied
    # The form posts, so a phone or card number typed in never sits in a URL (browser history,
    # proxy and access logs); links from other pages may still pass an order number as ?q=.
    query = (request.POST if request.method == "POST" else request.GET).get("q", "").strip()
    result = lookup_service(actor=request.user, query=query) if query else None
    # A phone typed in is shown back masked, as the audit trail keeps it (personal data is masked
    # on every screen); searching again by the masked form still finds the member.
    if result is not None:
        result.query = mask_query(result.query)
    return render_admin(request, "backoffice/complaints.html", {"query": mask_query(query), "result": result},
                        title=_("Complaint look-up"))
