from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReconciliationConfig(AppConfig):
    name = "reconciliation"
    verbose_name = _("Reconciliation")

    def ready(self):
        from merchants import hooks

        from . import selectors

        hooks.close_checks.append(selectors.close_blockers)
        hooks.admin_panels.append(selectors.merchant_admin_panels)
