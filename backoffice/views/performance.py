"""RM performance: the screen (chart and table, snapshot beside live) and its exports."""
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError
from core.roles import RELATIONSHIP_MANAGER

from .. import exports
from ..selectors import performance as perf
from .common import render_admin


def _scope(request):
    """None: every RM; else the ids this user may see (an RM: themselves)."""
    user = request.user
    if user.has_perm("backoffice.view_rm_performance"):
        return None
    if user.groups.filter(name=RELATIONSHIP_MANAGER).exists():
        return [user.pk]
    raise PermissionDenied


def _period(request):
    text = request.GET.get("period", "").strip()
    return perf.parse_period(text) if text else perf.current_period("month")


def performance_page(request):
    scope = _scope(request)
    error = None
    try:
        period = _period(request)
    except ApplicationError as err:
        period, error = perf.current_period("month"), err.message
    rows = perf.with_snapshots(period, perf.performance(period, rm_ids=scope))
    totals = {name: sum((getattr(r, name) for r in rows), 0) for name in perf.METRIC_NAMES}
    current = perf.current_period("month")
    shortcuts = [current, perf.previous_period(current), perf.current_period("quarter"),
                 perf.previous_period(perf.current_period("quarter")), perf.current_period("year")]
    return render_admin(request, "backoffice/performance.html", {
        "period": period, "rows": rows, "metrics": perf.METRICS, "totals": totals, "error": error,
        "has_snapshot": any(r.snapshot is not None for r in rows), "shortcuts": shortcuts,
        "charts": {"performance": perf.chart_for(rows)},
    }, title=_("RM performance"))


def performance_export(request):
    scope = _scope(request)
    fmt = request.GET.get("format", "csv")
    if fmt not in exports.FORMATS:
        fmt = "csv"
    try:
        period = _period(request)
    except ApplicationError as err:
        return HttpResponse(str(err.message), status=400, content_type="text/plain; charset=utf-8")
    rows = perf.with_snapshots(period, perf.performance(period, rm_ids=scope))
    render, content_type, extension = exports.FORMATS[fmt]
    response = HttpResponse(render(period, rows), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="rm-performance-{period.key}.{extension}"'
    return response
