"""Text messages to members' phones, through a pluggable sender (settings.JIANGUAN["SMS_BACKEND"]).

- `OutboxBackend` keeps the messages in memory (`outbox`): tests read the code from there.
- `ConsoleBackend` writes each message to standard output: the quick start's "phone".
- `HttpGatewayBackend` POSTs {"phone", "text"} as JSON to JIANGUAN["SMS_GATEWAY_URL"] with
  `Authorization: Bearer <JIANGUAN["SMS_GATEWAY_KEY"]>`; anything but a 2xx in time is
  `SmsUnavailable` (the caller books nothing). Error messages never carry the text or the phone.
"""
import sys
import threading

import requests
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError


class SmsUnavailable(ApplicationError):
    code, status = "sms_unavailable", 503
    default_message = _("The text message could not be sent; try again shortly.")


class OutboxBackend:
    outbox: list = []
    _lock = threading.Lock()

    def send(self, phone: str, text: str) -> None:
        with self._lock:
            type(self).outbox.append((phone, text))


class ConsoleBackend:
    def send(self, phone: str, text: str) -> None:
        sys.stdout.write(f"[SMS to {phone}] {text}\n")
        sys.stdout.flush()


class HttpGatewayBackend:
    timeout = 5.0

    def send(self, phone: str, text: str) -> None:
        url, key = settings.JIANGUAN["SMS_GATEWAY_URL"], settings.JIANGUAN["SMS_GATEWAY_KEY"]
        if not url:
            raise SmsUnavailable(_("No text message gateway is configured."))
        try:
            response = requests.post(url, json={"phone": phone, "text": text}, timeout=self.timeout,
                                     headers={"Authorization": f"Bearer {key}"}, allow_redirects=False)
        except requests.RequestException:
            raise SmsUnavailable() from None
        if not 200 <= response.status_code < 300:
            raise SmsUnavailable()


def send(phone: str, text: str) -> None:
    import_string(settings.JIANGUAN["SMS_BACKEND"])().send(phone, text)
