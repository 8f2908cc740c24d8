"""Send a signed payment-channel notification, as the channel would (demos, operations drills).

    python manage.py channel_notify --channel unionpay --payment-code K7Q2M9XW3P --amount 12.34 \\
        [--transaction-id TX-1] [--url http://127.0.0.1:8000] [--in-process]

Signs with the channel's own app id and secret (PaymentChannel), like the real channel. With
--in-process the request goes through Django's test client inside this process (no server
needed); otherwise it is POSTed to --url."""
import json
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from core.api.signing import signed_headers
from ledger.models import PaymentChannel


class Command(BaseCommand):
    help = "Send a signed payment-channel notification (money arrived for a deposit's payment code)."

    def add_arguments(self, parser):
        parser.add_argument("--channel", required=True, help="the payment channel's code")
        parser.add_argument("--payment-code", help="the deposit's payment code")
        parser.add_argument("--deposit-id", type=int, help="or the deposit's id")
        parser.add_argument("--account-number", help="the supervision account the money reached")
        parser.add_argument("--amount", required=True, help="the amount received, e.g. 12.34")
        parser.add_argument("--transaction-id", help="the channel's reference (default: a new one)")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the Jianguan server")
        parser.add_argument("--in-process", action="store_true", help="call the view in this process")

    def handle(self, *args, **options):
        channel = PaymentChannel.objects.filter(code=options["channel"]).first()
        if channel is None:
            raise CommandError(f"No payment channel with code {options['channel']!r}.")
        if not (options["payment_code"] or options["deposit_id"] or options["account_number"]):
            raise CommandError("Give --payment-code, --deposit-id or --account-number.")
        body = {"transaction_id": options["transaction_id"] or f"CLI-{uuid.uuid4().hex[:16]}",
                "amount": options["amount"]}
        for key in ("payment_code", "deposit_id", "account_number"):
            if options[key]:
                body[key] = options[key]
        raw = json.dumps(body).encode()
        path = reverse("api-channel-notifications", kwargs={"channel_code": channel.code})
        headers = signed_headers(app_id=channel.app_id, secret=channel.secret, method="POST", path=path, body=raw)
        if options["in_process"]:
            status, text = self._in_process(path, raw, headers)
        else:
            status, text = self._over_http(options["url"].rstrip("/") + path, raw, headers)
        self.stdout.write(f"HTTP {status}\n{text}")
        if status >= 400:
            raise CommandError(f"The notification was refused (HTTP {status}).")

    def _in_process(self, path, raw, headers):
        from django.test import Client

        host = next((h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")), "testserver")
        response = Client(HTTP_HOST=host).post(path, data=raw, content_type="application/json",
                                               headers=headers)
        return response.status_code, response.content.decode()

    def _over_http(self, url, raw, headers):
        import requests

        try:
            response = requests.post(url, data=raw, headers={**headers, "Content-Type": "application/json"},
                                     timeout=30)
        except requests.RequestException as exc:
            raise CommandError(f"Could not reach {url}: {exc}") from None
        return response.status_code, response.text
