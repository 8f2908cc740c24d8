"""Signed platform API requests for the fault tests (Django's test client, real signatures)."""
import json

from django.test import Client

from core.api.signing import signed_headers


def signed_post(*, app_id: str, secret: str, path: str, body: dict, key: str):
    raw = json.dumps(body).encode()
    headers = signed_headers(app_id=app_id, secret=secret, method="POST", path=path, body=raw)
    headers["Idempotency-Key"] = key
    return Client().generic("POST", path, data=raw, content_type="application/json", headers=headers)


def payment_body(payer, payee, amount, order_no) -> dict:
    return {"payer_user_id": payer.user_id, "payee_user_id": payee.user_id, "amount": amount,
            "order_no": order_no, "mode": "direct"}
