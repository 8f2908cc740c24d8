"""Throttling per app id; the OpenAPI schema and the offline Swagger UI."""
import pytest
import yaml
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from .conftest import add_member, error_of

pytestmark = pytest.mark.django_db


def test_requests_are_throttled_per_app_id(platform, other_platform, raw_api, settings):
    add_member(platform, "u-1")
    add_member(other_platform, "u-1")
    cache.clear()  # forget the set-up requests
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"platform": "3/min"}}
    statuses = [raw_api.as_platform(platform, "GET", "/api/v1/members/u-1").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = raw_api.as_platform(platform, "GET", "/api/v1/members/u-1")
    error = error_of(response)
    assert error["code"] == "throttled" and error["details"]["retry_after"] > 0
    assert int(response["Retry-After"]) > 0
    # another app has its own allowance
    assert raw_api.as_platform(other_platform, "GET", "/api/v1/members/u-1").status_code == 200


def test_the_schema_describes_every_endpoint_with_errors_and_security():
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    expected = {
        ("/api/v1/members", "post"), ("/api/v1/members/{user_id}", "get"),
        ("/api/v1/members/{user_id}/balance", "get"), ("/api/v1/members/{user_id}/entries", "get"),
        ("/api/v1/members/{user_id}/bank-cards", "post"), ("/api/v1/members/{user_id}/bank-cards/{id}/verify", "post"),
        ("/api/v1/deposits", "post"), ("/api/v1/deposits/{id}", "get"),
        ("/api/v1/channels/{channel_code}/notifications", "post"),
        ("/api/v1/payments", "post"), ("/api/v1/payments", "get"), ("/api/v1/payments/{id}", "get"),
        ("/api/v1/payments/{id}/release", "post"), ("/api/v1/payments/{id}/refunds", "post"),
        ("/api/v1/withdrawals", "post"), ("/api/v1/withdrawals/{id}", "get"),
    }
    found = {(p, m) for p, ops in paths.items() for m in ops}
    assert expected <= found
    payment = paths["/api/v1/payments"]["post"]
    assert {"201", "400", "401", "403", "404", "409", "422", "429"} <= set(payment["responses"])
    assert payment["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert "insufficient_funds" in payment["responses"]["422"]["description"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" and p["required"]
               for p in payment["parameters"])
    assert payment["security"] == [{"AppId": [], "Timestamp": [], "Nonce": [], "Signature": []}]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["Signature"]["name"] == "X-Signature"
    assert "METHOD" in schemes["Signature"]["description"]
    error = schema["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorBody")
    amount = schema["components"]["schemas"]["DepositInputRequest"]["properties"]["amount"]
    assert amount["type"] == "string" and amount["pattern"]


def test_the_docs_load_swagger_ui_from_local_static_files():
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert settings.STATIC_URL in html and "drf_spectacular_sidecar" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
