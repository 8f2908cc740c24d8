from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    name = "risk"
    verbose_name = _("Risk")

    def ready(self):
        from ledger import hooks as ledger_hooks
        from merchants import hooks

        from . import level
        from .selectors import monitors as selectors
        from .selectors import reserve as reserve_selectors
        from .selectors import rules as rule_selectors
        from .services import reviews, rules

        hooks.admin_panels.append(selectors.merchant_risk_panels)
        hooks.admin_panels.append(reserve_selectors.merchant_reserve_panels)  # the risk reserve (风险保证金)
        # Outflow rules: every payment, withdrawal and release is offered to them (ledger.outflows).
        ledger_hooks.outflow_scopes.append(rules.outflow_scope)
        ledger_hooks.outflow_checks.append(rules.outflow_check)
        ledger_hooks.outflow_reviews.append(reviews.review_open)
        hooks.admin_panels.append(rule_selectors.merchant_outflow_panels)
        level.rule_hit_sources.append(rules.rule_hits_in_window)
        # A rule saved or deleted in this process is read afresh at once (others: within the cache's seconds).
        from django.db.models.signals import post_delete, post_save

        from .models import OutflowRule

        post_save.connect(rules.rules_cache_clear, sender=OutflowRule, dispatch_uid="outflow-rules-cache")
        post_delete.connect(rules.rules_cache_clear, sender=OutflowRule, dispatch_uid="outflow-rules-cache-delete")
