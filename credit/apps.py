from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "credit"
    verbose_name = _("Credit")

    def ready(self):
        from ledger.api import extensions
        from merchants import hooks

        from . import selectors

        hooks.admin_panels.append(selectors.merchant_credit_panels)
        hooks.close_checks.append(selectors.close_blockers)
        hooks.member_close_checks.append(selectors.member_close_blockers)
        extensions.credit_summary_providers.append(selectors.credit_summary)  # the balance API's "credit"
