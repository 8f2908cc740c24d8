from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs):
    from django.conf import settings

    # post_migrate is sent once per app, and each app's permissions are created by its own
    # signal: sync after the last app so every permission exists.
    if sender.name == settings.INSTALLED_APPS[-1]:
        from .roles import sync_roles

        sync_roles()


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Audit")

    def ready(self):
        post_migrate.connect(_sync_roles, dispatch_uid="core.sync_roles")
        from .security import install_on_admin_site

        install_on_admin_site()
