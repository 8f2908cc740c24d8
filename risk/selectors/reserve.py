"""Reads of the risk reserve (风险保证金) the dashboards, the merchant page and the RM performance data
share: each merchant's reserve balance as an annotation (no query of its own), the merchants short of
their requirement, the decisions waiting for a second risk officer, and the merchant page's panel."""
from django.db.models import CharField, DecimalField, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_display import money
from core.money import ZERO
from ledger.models import Account, AccountKind
from ledger.selectors import reserve_position
from ledger.services.withdrawals import reserve_shortfall_limit

from ..models import DecisionStatus, ReserveCompensation, ReservePolicy, ReserveRelease

_MONEY = DecimalField(max_digits=18, decimal_places=2)
LIST_LIMIT = 10


def reserve_balance(merchant_ref="pk"):
    """Annotation: the merchant's risk reserve balance (an ordinary account: its balance is exact)."""
    account = Account.objects.filter(merchant=OuterRef(merchant_ref), kind=AccountKind.RISK_RESERVE,
                                     member__isnull=True)
    return Coalesce(Subquery(account.values("balance")[:1], output_field=_MONEY), Value(ZERO), output_field=_MONEY)


def with_reserve(merchants):
    """The merchants annotated with reserve_balance and reserve_shortfall (required − balance, ≥ 0)."""
    return merchants.annotate(reserve_balance=reserve_balance()).annotate(
        reserve_shortfall=Greatest(F("risk_reserve_required") - F("reserve_balance"), Value(ZERO),
                                   output_field=_MONEY))


def short_of_reserve(merchants, *, limit: int = LIST_LIMIT) -> list:
    """Live merchants whose reserve is short of its requirement, the largest shortfall first. One query."""
    from .monitors import LIVE_MERCHANTS

    return list(with_reserve(merchants.filter(status__in=LIVE_MERCHANTS, risk_reserve_required__gt=0))
                .filter(reserve_shortfall__gt=0).order_by("-reserve_shortfall", "code")[:limit])


def pending_decisions(merchants, *, limit: int = LIST_LIMIT) -> list[dict]:
    """Policies, compensations and releases awaiting a second risk officer, oldest first. One query."""
    def rows(model, kind):
        return (model.objects.filter(merchant__in=merchants, status=DecisionStatus.REQUESTED)
                .annotate(kind=Value(kind, output_field=CharField()), code=F("merchant__code"))
                .values_list("kind", "pk", "code", "requested_at"))

    union = rows(ReservePolicy, "reservepolicy").union(
        rows(ReserveCompensation, "reservecompensation"), rows(ReserveRelease, "reserverelease"), all=True)
    labels = {"reservepolicy": _("Required reserve"), "reservecompensation": _("Compensation"),
              "reserverelease": _("Release")}
    return [{"label": labels[kind], "merchant_code": code, "requested_at": at,
             "url": reverse(f"admin:risk_{kind}_change", args=[pk])}
            for kind, pk, code, at in sorted(union, key=lambda r: r[3])[:limit]]


def merchant_reserve_panels(merchant) -> list[dict]:
    """The merchant page's reserve panel (merchants.hooks.admin_panels): the policy in force, the
    required amount, the reserve, the shortfall and what it holds back, decisions waiting, and the
    links that start one. Four queries."""
    position = reserve_position(merchant)
    policy = ReservePolicy.objects.filter(merchant_id=merchant.pk, status=ReservePolicy.Status.IN_FORCE).first()
    waiting = (ReservePolicy.objects.filter(merchant_id=merchant.pk, status=DecisionStatus.REQUESTED).count()
               + ReserveCompensation.objects.filter(merchant_id=merchant.pk, status=DecisionStatus.REQUESTED).count())
    link = '<a class="text-primary-600 underline" href="{}">{}</a>'
    rows = [
        (_("Policy in force"), str(policy) if policy else _("none")),
        (_("Required reserve"), money(position.required)),
        (_("Reserve balance"), money(position.balance)),
        (_("Shortfall"), money(position.shortfall)),
    ]
    if position.shortfall:
        rows.append((_("Withdrawals held back"), _("above %(limit)s, until funded") % {
            "limit": money(reserve_shortfall_limit())}))
    rows += [
        (_("Decisions awaiting approval"), str(waiting)),
        (_("Ask"), format_html(link + " · " + link, reverse("admin:risk_reservepolicy_add"), _("Required reserve"),
                               reverse("admin:risk_reservecompensation_add"), _("Compensation"))),
    ]
    return [{"title": _("Risk reserve (风险保证金)"), "ok": not position.shortfall,
             "headline": (_("Short by %(amount)s") % {"amount": money(position.shortfall)}) if position.shortfall
             else _("Funded"), "rows": rows}]
