from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = _("Back office")

    def ready(self):
        from django.contrib import admin
        from merchants import hooks

        from . import jobs, selectors

        hooks.admin_panels.append(selectors.merchant360.merchant_admin_link_panel)
        jobs.connect_signals()
        admin.site.index_title = _("Dashboard")  # the admin index is the per-role dashboard
