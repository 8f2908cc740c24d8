"""Where webhooks may go: https only, except in the local quick start and the tests
(JIANGUAN["WEBHOOK_ALLOW_HTTP"], on only where debug is on or in the test settings)."""
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def http_allowed() -> bool:
    return bool(settings.JIANGUAN.get("WEBHOOK_ALLOW_HTTP", settings.DEBUG))


def url_allowed(url: str) -> bool:
    scheme = urlsplit(url or "").scheme.lower()
    return scheme == "https" or (scheme == "http" and http_allowed())


def validate_webhook_url(value: str) -> None:
    if value and not url_allowed(value):
        raise ValidationError(_("A webhook URL must start with https:// (plain http only in the local quick start)."),
                              code="https_required")
