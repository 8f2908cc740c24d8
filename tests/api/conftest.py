"""Fixtures for the API tests: an active merchant with its secret, a JianguanClient talking
to the app through Django's test client (real signing, real idempotency keys), and a raw
signed-request helper for what a client would never send."""
import json
import time
import uuid
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client

from core.api.signing import signed_headers
from jianguan_client import JianguanClient
from tests import factories as f

from .transport import BASE_URL, django_session


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # throttle counters
    yield
    cache.clear()


@dataclass
class Platform:
    merchant: object
    secret: str
    client: JianguanClient

    @property
    def app_id(self):
        return self.merchant.app_id


def make_platform(**merchant_fields) -> Platform:
    merchant, secret = f.active_merchant(with_secret=True, **merchant_fields)
    client = JianguanClient(BASE_URL, merchant.app_id, secret, session=django_session())
    return Platform(merchant, secret, client)


@pytest.fixture
def platform(db):
    return make_platform()


@pytest.fixture
def other_platform(db):
    return make_platform()


class RawApi:
    """Signed requests built by hand from API.md (not from the client), with every part
    overridable to test refusals."""

    def __init__(self):
        self.http = Client()

    def call(self, method, path, *, app_id, secret, body=None, raw: bytes | None = None, headers=None,
             timestamp=None, nonce=None, sign_path=None, sign_body=None, idempotency_key="auto",
             content_type="application/json"):
        if raw is None:
            raw = b"" if body is None else json.dumps(body).encode()
        sig_headers = signed_headers(app_id=app_id, secret=secret, method=method, path=sign_path or path,
                                     body=raw if sign_body is None else sign_body,
                                     timestamp=timestamp if timestamp is not None else int(time.time()),
                                     nonce=nonce)
        all_headers = {**sig_headers}
        if method == "POST" and idempotency_key:
            all_headers["Idempotency-Key"] = str(uuid.uuid4()) if idempotency_key == "auto" else idempotency_key
        all_headers.update(headers or {})
        all_headers = {k: v for k, v in all_headers.items() if v is not None}
        return self.http.generic(method, path, data=raw, content_type=content_type, headers=all_headers)

    def as_platform(self, platform, method, path, **kwargs):
        return self.call(method, path, app_id=platform.app_id, secret=platform.secret, **kwargs)


@pytest.fixture
def raw_api():
    return RawApi()


def error_of(response) -> dict:
    data = response.json()
    assert set(data) == {"error"}, data
    assert set(data["error"]) == {"code", "message", "details"}, data
    return data["error"]


# --- money helpers (the bank side, not the API: a platform can't credit) --------------------

def fund(platform, user_id: str, amount: str, *, business_date=None):
    """f.funded for the API tests, which know a member only as the platform's user_id: looks
    the member up on the platform's merchant and credits it as an imported statement line would."""
    from merchants.models import Member

    member = Member.objects.get(merchant=platform.merchant, user_id=user_id)
    return f.funded(member, amount, business_date=business_date)


def add_member(platform, user_id: str, *, kind="individual", name=None, roles=("buyer", "seller")):
    return platform.client.create_member(user_id=user_id, name=name or f"Member {user_id}", kind=kind,
                                         id_number="110101199003071234", phone="13812345678", roles=list(roles))
