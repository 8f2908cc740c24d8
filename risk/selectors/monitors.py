"""Reads of the risk app: a monitor's state over every account it targets (one query), the open
alerts for the dashboards, the latest risk assessment and the merchant page's panel."""
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from core.money import format_amount, quantize
from ledger.models.accounts import MEMBER_KINDS
from merchants.models import Member, Merchant

from ..level import FACTOR_BY_KEY
from ..models import (
    BalanceMonitor,
    MonitorAlert,
    MonitorField,
    Operator,
    RiskAssessment,
)

SQL_OPERATORS = {Operator.LT: "<", Operator.LTE: "<=", Operator.GT: ">", Operator.GTE: ">="}
# Whose balances are watched: merchants still holding money, members not closed.
LIVE_MERCHANTS = (Merchant.Status.ACTIVE, Merchant.Status.FROZEN, Merchant.Status.CLOSING)
DASHBOARD_ALERTS = 10


@dataclass(frozen=True)
class AccountState:
    account_id: int
    merchant_id: int
    member_id: int | None
    value: Decimal
    crossed: bool
    open_alert_id: int | None


def monitor_state(monitor: BalanceMonitor) -> list[AccountState]:
    """One query over every account the monitor targets: the accounts whose condition holds now,
    and the accounts with an open alert of this monitor (whether or not it still holds). The value
    is the ledger's balance now, hot deltas not yet rolled up included (ledger.selectors); for the
    reserve shortfall, the merchant's required reserve less that balance."""
    kind = monitor.account_kind
    # Pending deltas for every kind, not only the platform's hot ones: a member's available account
    # may be hot (ledger.services.hot_flagging), and one made ordinary may still hold a late delta.
    scope = "WHERE merchant_id = %s" if monitor.merchant_id else ""
    deltas = (f"LEFT JOIN (SELECT account_id, SUM(change) AS total FROM ledger_hotbalancedelta {scope} "
              "GROUP BY account_id) d ON d.account_id = a.id")
    balance = "(a.balance + COALESCE(d.total, 0))"
    value = f"(m.risk_reserve_required - {balance})" if monitor.field == MonitorField.RESERVE_SHORTFALL else balance
    live = "m.status IN ({})".format(", ".join(["%s"] * len(LIVE_MERCHANTS)))
    members = ""
    if kind in MEMBER_KINDS:
        members = "JOIN merchants_member mb ON mb.id = a.member_id"
        live += " AND mb.status <> %s"
    where = ["a.kind = %s"]
    where_params: list = [str(kind)]
    if monitor.merchant_id:
        where.append("a.merchant_id = %s")
        where_params.append(monitor.merchant_id)
    if monitor.member_id:
        where.append("a.member_id = %s")
        where_params.append(monitor.member_id)
    sql = f"""
        SELECT account_id, merchant_id, member_id, value, crossed, open_alert_id FROM (
          SELECT a.id AS account_id, a.merchant_id, a.member_id, {value} AS value,
                 CASE WHEN {live} AND {value} {SQL_OPERATORS[monitor.operator]} CAST(%s AS NUMERIC) THEN 1 ELSE 0 END AS crossed,
                 al.id AS open_alert_id
          FROM ledger_account a
          JOIN merchants_merchant m ON m.id = a.merchant_id
          {members}
          {deltas}
          LEFT JOIN risk_monitoralert al ON al.monitor_id = %s AND al.account_id = a.id AND al.cleared_at IS NULL
          WHERE {" AND ".join(where)}
        ) t WHERE crossed = 1 OR open_alert_id IS NOT NULL
        ORDER BY account_id"""
    params: list = [str(status) for status in LIVE_MERCHANTS]
    if kind in MEMBER_KINDS:
        params.append(str(Member.Status.CLOSED))
    params.append(monitor.threshold)
    if monitor.merchant_id:
        params.append(monitor.merchant_id)
    params += [monitor.pk, *where_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [AccountState(account_id, merchant_id, member_id, quantize(Decimal(str(value))), bool(crossed),
                             open_alert_id)
                for account_id, merchant_id, member_id, value, crossed, open_alert_id in cursor.fetchall()]


def open_alerts(merchants=None, *, limit: int = DASHBOARD_ALERTS):
    """The open alerts, newest first (for the risk and operations dashboards), with their count."""
    qs = MonitorAlert.objects.filter(cleared_at__isnull=True)
    if merchants is not None:
        qs = qs.filter(merchant__in=merchants)
    rows = list(qs.select_related("monitor", "merchant", "member", "account").order_by("-crossed_at", "-id")[:limit])
    return rows, (len(rows) if len(rows) < limit else qs.count())


def latest_assessment(merchant) -> RiskAssessment | None:
    return RiskAssessment.objects.filter(merchant_id=merchant.pk).order_by("-computed_at", "-id").first()


def factor_rows(assessment: RiskAssessment) -> list[tuple]:
    """(label, "value → points / weight") per factor, as the merchant page and the freeze page show them."""
    rows = []
    for factor in assessment.factors:
        spec = FACTOR_BY_KEY.get(factor["key"])  # shown in the reader's language, not the computer's
        shown = f"{factor['value']} → {factor['points']} / {factor['weight']}"
        if factor.get("note"):
            shown = f"{shown} ({spec.note if spec else factor['note']})"
        rows.append((spec.label if spec else factor["label"], shown))
    return rows


def merchant_risk_panels(merchant) -> list[dict]:
    """The merchant page's risk panel (merchants.hooks.admin_panels): the computed level with its
    factors and when it was computed, the open alerts, and the button to recompute. Three queries."""
    assessment = latest_assessment(merchant)
    recompute = format_html('<a class="text-primary-600 underline" href="{}">{}</a>',
                            reverse("admin:risk_riskassessment_recompute", args=[merchant.pk]), _("Recompute now"))
    open_count = MonitorAlert.objects.filter(merchant_id=merchant.pk, cleared_at__isnull=True).count()
    rows = [(_("Open balance alerts"), str(open_count))]
    if assessment is None:
        return [{"title": _("Risk level (computed)"), "ok": None, "headline": "",
                 "rows": [(_("Not computed yet"), recompute), *rows]}]
    rows = [
        (_("Score (0 = no risk, 100 = highest)"), str(assessment.score)),
        *factor_rows(assessment),
        (_("Computed at"), date_format(localtime(assessment.computed_at), "DATETIME_FORMAT")),
        (_("Window"), _("%(days)s days to %(date)s") % {"days": assessment.window_days,
                                                        "date": assessment.as_of.isoformat()}),
        *rows,
        (_("Recompute"), recompute),
    ]
    return [{"title": _("Risk level (computed): %(level)s") % {"level": assessment.get_level_display()},
             "ok": assessment.level != "high",
             "headline": _("Level %(level)s, score %(score)s") % {"level": assessment.get_level_display(),
                                                                  "score": assessment.score},
             "rows": rows}]


def alert_webhook_data(alert: MonitorAlert, monitor: BalanceMonitor, member_user_id: str | None) -> dict:
    """The `balance.alert` event's data: what crossed, and where (the platform's own user id)."""
    return {"alert_id": alert.pk, "monitor_id": monitor.pk, "description": monitor.description,
            "field": monitor.field, "operator": monitor.operator, "threshold": format_amount(monitor.threshold),
            "value": format_amount(alert.value), "account_kind": monitor.account_kind, "user_id": member_user_id,
            "crossed_at": localtime(alert.crossed_at).isoformat()}
