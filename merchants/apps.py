from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MerchantsConfig(AppConfig):
    name = "merchants"
    verbose_name = _("Merchants")

    def ready(self):
        from core.api import authentication

        from .api.credentials import platform_credentials

        # The platform API finds a merchant's secrets here (core never imports merchants).
        authentication.register_platform_credentials(platform_credentials)
