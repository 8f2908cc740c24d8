from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    name = "risk"
    verbose_name = _("Risk")

    def ready(self):
        from merchants import hooks

        from . import reserve_selectors, selectors

        hooks.admin_panels.append(selectors.merchant_risk_panels)
        hooks.admin_panels.append(reserve_selectors.merchant_reserve_panels)  # the risk reserve (风险保证金)
