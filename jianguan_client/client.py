"""The client: one method per endpoint of API.md, signing every request (requests.AuthBase),
raising JianguanError for every error envelope."""
import json
import uuid
from decimal import Decimal
from urllib.parse import quote

import requests

from core.api.signing import signed_headers


class JianguanError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        self.status, self.code, self.message, self.details = status, code, message, details or {}
        super().__init__(f"{status} {code}: {message}")


class SignedAuth(requests.auth.AuthBase):
    """Signs the prepared request: the path and query exactly as they will be sent, the body bytes."""

    def __init__(self, app_id: str, secret: str):
        self.app_id, self.secret = app_id, secret

    def __call__(self, request: requests.PreparedRequest):
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        request.headers.update(signed_headers(app_id=self.app_id, secret=self.secret, method=request.method,
                                              path=request.path_url, body=body))
        return request


def _amount(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (int, float)):
        raise TypeError("pass amounts as str or Decimal, never float or int")
    return value


def _seg(value) -> str:
    return quote(str(value), safe="")


class JianguanClient:
    def __init__(self, base_url: str, app_id: str, secret: str, session: requests.Session | None = None,
                 timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.auth = SignedAuth(app_id, secret)
        self.timeout = timeout
        self.last_response = None

    # --- transport ---
    def request(self, method: str, path: str, *, body: dict | None = None, params: dict | None = None,
                idempotency_key: str | None = None, idempotent: bool = False):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps({k: v for k, v in body.items() if v is not None}, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if idempotent:
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        params = {k: v for k, v in (params or {}).items() if v is not None} or None
        response = self.session.request(method, f"{self.base_url}/api/v1{path}", data=data, params=params,
                                        headers=headers, auth=self.auth, timeout=self.timeout)
        self.last_response = response  # e.g. last_response.headers.get("Idempotent-Replayed")
        try:
            payload = response.json() if response.content else None
        except ValueError:
            payload = None
        if response.status_code >= 400:
            error = (payload or {}).get("error") if isinstance(payload, dict) else None
            if not isinstance(error, dict):
                raise JianguanError(response.status_code, "http_error", response.text[:200])
            raise JianguanError(response.status_code, error.get("code", "error"), error.get("message", ""),
                                error.get("details"))
        return payload

    def _post(self, path, body=None, idempotency_key=None):
        return self.request("POST", path, body=body or {}, idempotency_key=idempotency_key, idempotent=True)

    def download(self, path: str, *, params: dict | None = None, accept: str = "application/pdf") -> bytes:
        """A GET answering a file (a receipt's PDF): its bytes; errors raise JianguanError as usual."""
        params = {k: v for k, v in (params or {}).items() if v is not None} or None
        response = self.session.request("GET", f"{self.base_url}/api/v1{path}", params=params,
                                        headers={"Accept": accept}, auth=self.auth, timeout=self.timeout)
        self.last_response = response  # e.g. last_response.headers["X-Receipt-Number"]
        if response.status_code >= 400:
            try:
                error = response.json().get("error")
            except (ValueError, AttributeError):
                error = None
            if not isinstance(error, dict):
                raise JianguanError(response.status_code, "http_error", response.text[:200])
            raise JianguanError(response.status_code, error.get("code", "error"), error.get("message", ""),
                                error.get("details"))
        return response.content

    # --- members ---
    def create_member(self, *, user_id, name, kind, id_number=None, phone=None, roles=None, idempotency_key=None):
        return self._post("/members", {"user_id": user_id, "name": name, "kind": kind, "id_number": id_number,
                                       "phone": phone, "roles": roles}, idempotency_key)

    def get_member(self, user_id):
        return self.request("GET", f"/members/{_seg(user_id)}")

    def get_balance(self, user_id):
        return self.request("GET", f"/members/{_seg(user_id)}/balance")

    def list_entries(self, user_id, *, date_from=None, date_to=None, cursor=None, limit=None):
        return self.request("GET", f"/members/{_seg(user_id)}/entries", params={
            "from": str(date_from) if date_from else None, "to": str(date_to) if date_to else None,
            "cursor": cursor, "limit": limit})

    def iter_entries(self, user_id, **filters):
        """Every statement line, newest first, following the cursors."""
        cursor = None
        while True:
            page = self.list_entries(user_id, cursor=cursor, **filters)
            yield from page["results"]
            cursor = page["next"]
            if not cursor:
                return

    def get_credit_line(self, user_id):
        return self.request("GET", f"/members/{_seg(user_id)}/credit-line")

    # --- bank cards ---
    def add_bank_card(self, user_id, *, account_number, account_name, bank_name, idempotency_key=None):
        return self._post(f"/members/{_seg(user_id)}/bank-cards", {
            "account_number": account_number, "account_name": account_name, "bank_name": bank_name}, idempotency_key)

    def list_bank_cards(self, user_id):
        return self.request("GET", f"/members/{_seg(user_id)}/bank-cards")

    def verify_bank_card(self, user_id, card_id, *, amount, idempotency_key=None):
        return self._post(f"/members/{_seg(user_id)}/bank-cards/{int(card_id)}/verify",
                          {"amount": _amount(amount)}, idempotency_key)

    # --- deposits ---
    def create_deposit(self, *, user_id, amount, order_no, method="offline_transfer", channel=None,
                       idempotency_key=None):
        return self._post("/deposits", {"user_id": user_id, "amount": _amount(amount), "order_no": order_no,
                                        "method": method, "channel": channel}, idempotency_key)

    def get_deposit(self, deposit_id):
        return self.request("GET", f"/deposits/{int(deposit_id)}")

    # --- the platform's risk reserve (风险保证金) ---
    def get_risk_reserve(self):
        """{"required", "balance", "shortfall", "withdrawal_limit_while_short", "currency"}."""
        return self.request("GET", "/risk-reserve")

    def create_reserve_deposit(self, *, amount, order_no, method="offline_transfer", channel=None,
                               idempotency_key=None):
        """Announce money for the platform's own risk reserve; the bank credits it on its own proof."""
        return self._post("/risk-reserve/deposits", {"amount": _amount(amount), "order_no": order_no,
                                                     "method": method, "channel": channel}, idempotency_key)

    def create_platform_deposit(self, *, amount, order_no, method="offline_transfer", channel=None,
                                idempotency_key=None):
        """Announce the platform's own money for its own account; the bank credits it on its own proof."""
        return self._post("/platform-account/deposits", {"amount": _amount(amount), "order_no": order_no,
                                                         "method": method, "channel": channel}, idempotency_key)

    # --- payments ---
    @staticmethod
    def _payment_body(*, payer_user_id, amount, order_no, mode="direct", payee_user_id=None, splits=None,
                      platform_fee=None, description=None) -> dict:
        body = {"payer_user_id": payer_user_id, "amount": _amount(amount), "order_no": order_no, "mode": mode,
                "payee_user_id": payee_user_id, "platform_fee": _amount(platform_fee), "description": description}
        if splits is not None:
            body["splits"] = [{"user_id": s["user_id"], "amount": _amount(s["amount"])} for s in splits]
        return {k: v for k, v in body.items() if v is not None}

    def create_payment(self, *, payer_user_id, amount, order_no, mode="direct", payee_user_id=None, splits=None,
                       platform_fee=None, description=None, idempotency_key=None):
        body = self._payment_body(payer_user_id=payer_user_id, amount=amount, order_no=order_no, mode=mode,
                                  payee_user_id=payee_user_id, splits=splits, platform_fee=platform_fee,
                                  description=description)
        return self._post("/payments", body, idempotency_key)

    @staticmethod
    def in_review(answer: dict) -> bool:
        """Whether a movement's answer (202) says the bank's risk office holds it for review:
        a payment or withdrawal with status `in_review`, or a release's `{"status": "in_review",
        "review_id", "payment"}`. Not an error: the money is held, and the webhooks
        `<payment|withdrawal|release>.review_approved` / `…review_refused` tell the outcome."""
        return isinstance(answer, dict) and answer.get("status") == "in_review"

    def create_payments_batch(self, payments, *, atomic=False, idempotency_key=None):
        """Up to 1,000 payments (each a dict of create_payment's keyword arguments) in one request
        and one transaction. Returns {"atomic", "booked", "replayed", "failed", "results"}: one
        result per payment, in order, with its "status" and its "payment" or its "error"
        ({"code", "message", "details"}). Not atomic: items fail independently (HTTP 200).
        Atomic: a refused item raises JianguanError for the whole batch, nothing booked, with
        details["index"] naming the item."""
        body = {"payments": [self._payment_body(**p) for p in payments], "atomic": bool(atomic)}
        return self._post("/payments/batch", body, idempotency_key)

    def get_payment(self, payment_id):
        return self.request("GET", f"/payments/{int(payment_id)}")

    def find_payments(self, *, order_no=None, cursor=None, limit=None):
        return self.request("GET", "/payments", params={"order_no": order_no, "cursor": cursor, "limit": limit})

    def release_payment(self, payment_id, *, amount=None, splits=None, reason=None, idempotency_key=None):
        """Release a guaranteed payment: everything still held (no amount, no splits), `amount` of
        it spread pro rata, or per payee (`splits`: [{"user_id", "amount"}]). Several partial
        releases are allowed until nothing is held (status `partially_released`, then `released`).
        Where the bank's outflow rules hold the release for review (202), the answer is
        {"status": "in_review", "review_id", "payment"} (see `in_review`); where the merchant asks
        payers to confirm releases, a challenge (202, {"challenge_id", ...}) to confirm_challenge."""
        body = {"amount": _amount(amount), "reason": reason}
        if splits is not None:
            body["splits"] = [{"user_id": s["user_id"], "amount": _amount(s["amount"])} for s in splits]
        return self._post(f"/payments/{int(payment_id)}/release", {k: v for k, v in body.items() if v is not None},
                          idempotency_key)

    def refund_payment(self, payment_id, *, amount, reason, idempotency_key=None):
        return self._post(f"/payments/{int(payment_id)}/refunds", {"amount": _amount(amount), "reason": reason},
                          idempotency_key)

    # --- withdrawals ---
    def create_withdrawal(self, *, user_id, amount, bank_card_id, order_no, idempotency_key=None):
        """The withdrawal (201/200), or, where the merchant asks members to confirm, a challenge
        (202: {"challenge_id", "sent_to", "expires_at", …}) to pass to `confirm_challenge`, or, where
        the bank's outflow rules hold it for review, the withdrawal with status `in_review` (202;
        see `in_review`)."""
        return self._post("/withdrawals", {"user_id": user_id, "amount": _amount(amount),
                                           "bank_card_id": int(bank_card_id), "order_no": order_no},
                          idempotency_key)

    def get_withdrawal(self, withdrawal_id):
        return self.request("GET", f"/withdrawals/{int(withdrawal_id)}")

    def confirm_challenge(self, challenge_id, code, *, idempotency_key=None):
        """Book what a 202 challenge holds with the member's one-time code; answers the booked
        withdrawal (a withdrawal's challenge) or the payment (a large payment's or a release's)."""
        return self._post(f"/challenges/{challenge_id}/confirm", {"code": str(code)}, idempotency_key)

    # --- receipts (电子回单, PDF bytes; the number is in last_response.headers["X-Receipt-Number"]) ---
    def payment_receipt(self, payment_id, *, kind="payment", part=None) -> bytes:
        """The payment's receipt; `kind="release"` for its release (`part`: one of a staged release)."""
        return self.download(f"/payments/{int(payment_id)}/receipt",
                             params={"kind": kind if kind != "payment" else None, "part": part})

    def refund_receipt(self, payment_id, refund_id) -> bytes:
        return self.download(f"/payments/{int(payment_id)}/refunds/{int(refund_id)}/receipt")

    def deposit_receipt(self, deposit_id) -> bytes:
        return self.download(f"/deposits/{int(deposit_id)}/receipt")

    def withdrawal_receipt(self, withdrawal_id) -> bytes:
        return self.download(f"/withdrawals/{int(withdrawal_id)}/receipt")

    # --- credit (the credit app's endpoints) ---
    def credit_drawdown(self, *, user_id, payee_user_id, amount, order_no, idempotency_key=None):
        return self._post("/credit/drawdowns", {"user_id": user_id, "payee_user_id": payee_user_id,
                                                "amount": _amount(amount), "order_no": order_no}, idempotency_key)

    def credit_repay(self, bill_id, *, amount, idempotency_key=None):
        return self._post(f"/credit/bills/{int(bill_id)}/repayments", {"amount": _amount(amount)}, idempotency_key)

    def list_credit_bills(self, *, user_id=None, status=None, cursor=None):
        return self.request("GET", "/credit/bills", params={"user_id": user_id, "status": status, "cursor": cursor})

    # --- reconciliation (the reconciliation app's endpoints) ---
    def upload_order_file(self, *, business_date, orders, idempotency_key=None):
        return self._post("/reconciliation/order-files", {"business_date": str(business_date), "orders": [
            {**o, "amount": _amount(o.get("amount"))} for o in orders]}, idempotency_key)

    def get_reconciliation_run(self, business_date):
        return self.request("GET", f"/reconciliation/runs/{business_date}")

    def list_reconciliation_differences(self, business_date, *, category=None, cursor=None, limit=None):
        """One page of the day's differing orders: {"results": [...], "next": cursor | None}."""
        return self.request("GET", f"/reconciliation/runs/{_seg(business_date)}/differences",
                            params={"category": category, "cursor": cursor, "limit": limit})

    def iter_reconciliation_differences(self, business_date, *, category=None, limit=None):
        """Every differing order of the day's end of day, following the cursors."""
        cursor = None
        while True:
            page = self.list_reconciliation_differences(business_date, category=category, cursor=cursor, limit=limit)
            yield from page["results"]
            cursor = page["next"]
            if not cursor:
                return
