from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PayoutsConfig(AppConfig):
    name = "payouts"
    verbose_name = _("Payouts")

    def ready(self):
        from reconciliation import hooks

        from .services import settlement

        if settlement.settle_statement_lines not in hooks.money_out_settlements:
            hooks.money_out_settlements.append(settlement.settle_statement_lines)
