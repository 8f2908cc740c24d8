"""A small Python client for the Jianguan platform API (contract v1, /api/v1/).

    from jianguan_client import JianguanClient, JianguanError

    client = JianguanClient("https://jianguan.example.com", app_id="jg0123abcd4567ef01", secret="…")
    client.create_member(user_id="u-1001", name="Li Lei", kind="individual", roles=["buyer"])
    deposit = client.create_deposit(user_id="u-1001", amount="1250.00", order_no="D-1", method="offline_transfer")
    try:
        client.create_payment(payer_user_id="u-1001", payee_user_id="u-2002", amount="99.00",
                              order_no="P-1", mode="guaranteed")
    except JianguanError as err:
        print(err.status, err.code, err.details)

Every request is signed (X-App-Id, X-Timestamp, X-Nonce, X-Signature); every POST that creates
or moves money carries an Idempotency-Key (a new uuid4 unless you pass `idempotency_key=`, which
you should when you retry). Amounts are strings; pass Decimal or str."""
from .client import JianguanClient, JianguanError, SignedAuth

__all__ = ["JianguanClient", "JianguanError", "SignedAuth"]
