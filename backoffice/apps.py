from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = _("Back office")

    def ready(self):
        from django.contrib import admin
        from merchants import hooks
        from reconciliation import hooks as reconciliation_hooks

        from . import jobs, selectors
        from .views import jobs as job_views

        hooks.admin_panels.append(selectors.merchant360.merchant_admin_link_panel)
        reconciliation_hooks.statement_import_starters.append(job_views.statement_import_start)
        reconciliation_hooks.eodrun_panels.append(job_views.eod_progress_panel)
        jobs.connect_signals()
        admin.site.index_title = _("Dashboard")  # the admin index is the per-role dashboard
