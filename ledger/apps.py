from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = _("Accounts & money")

    def ready(self):
        from merchants import hooks

        from . import selectors
        from .services import accounts

        hooks.on_activate.append(accounts.open_platform_accounts)
        hooks.on_member_created.append(accounts.open_member_accounts)
        hooks.close_checks.append(selectors.close_blockers)
        hooks.member_close_checks.append(selectors.member_close_blockers)
        hooks.admin_panels.append(selectors.merchant_admin_panels)
