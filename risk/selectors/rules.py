"""Reads of the outflow rules for the merchant page (merchants.hooks.admin_panels): the rules that
apply to the merchant now, its movements waiting in the risk queue and the rules' hits over 30 days.
Two queries (the rules come from the per-process cache)."""
from datetime import timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ..models import Mode, RiskReview, RuleHit
from ..services.rules import active_rules


def merchant_outflow_panels(merchant) -> list[dict]:
    rules = [r for r in active_rules() if r.applies_to(merchant)]
    waiting = RiskReview.objects.filter(merchant_id=merchant.pk, status=RiskReview.Status.OPEN).count()
    hits = RuleHit.objects.filter(merchant_id=merchant.pk, created_at__gte=timezone.now() - timedelta(days=30)
                                  ).aggregate(enforced=Count("id", filter=Q(mode=Mode.ENFORCE)),
                                              observed=Count("id", filter=Q(mode=Mode.OBSERVE)))
    queue = format_html('<a class="text-primary-600 underline" href="{}?{}">{}</a>',
                        reverse("admin:risk_riskreview_changelist"),
                        f"merchant__id__exact={merchant.pk}&status__exact=open", waiting)
    return [{"title": _("Outflow rules"), "ok": waiting == 0,
             "headline": _("%(rules)s rules apply; %(waiting)s movements wait in the risk queue")
             % {"rules": len(rules), "waiting": waiting},
             "rows": [(_("Rules that apply (enforced / observing)"),
                       f"{sum(r.mode == Mode.ENFORCE for r in rules)} / {sum(r.mode == Mode.OBSERVE for r in rules)}"),
                      (_("Waiting in the risk queue"), queue),
                      (_("Rule hits in 30 days (enforced / observed)"), f"{hits['enforced']} / {hits['observed']}")]}]
