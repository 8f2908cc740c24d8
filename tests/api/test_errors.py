"""The error envelope on every error, and never a 500 for bad input."""
import json

import pytest
from django.test import Client, override_settings

from .conftest import add_member, error_of

pytestmark = pytest.mark.django_db


def post(raw_api, platform, path, body=None, raw=None, **kw):
    return raw_api.as_platform(platform, "POST", path, body=body, raw=raw, **kw)


def test_unknown_routes_answer_the_envelope(platform, raw_api):
    for path in ["/api/v1/nope", "/api/v1/members/u-1/nope", "/api/v1/deposits/abc", "/api/v1/deposits/0",
                 "/api/v1/deposits/99999999999999999999999", "/api/v1/members/a%00b"]:
        response = raw_api.as_platform(platform, "GET", path)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
    # outside /api/v1/ but under /api/: Django's own 404, as JSON
    response = Client().get("/api/nothing-here")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_a_wrong_method_answers_405(platform, raw_api):
    response = raw_api.as_platform(platform, "DELETE", "/api/v1/members")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


@pytest.mark.parametrize("raw", [b"{", b"{'a': 1}", b"\xff\xfe", b"[1, 2", b"nul", b'{"a": NaN}',
                                 b'{"a": 1' + b"9" * 5000 + b"}"])
def test_malformed_json_answers_400(platform, raw_api, raw):
    response = post(raw_api, platform, "/api/v1/members", raw=raw)
    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == "invalid_request"


@pytest.mark.parametrize("body", [[], "text", 12, None, True, [{"user_id": "u"}]])
def test_a_body_that_is_not_an_object_answers_400(platform, raw_api, body):
    response = post(raw_api, platform, "/api/v1/members", raw=json.dumps(body).encode())
    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == "invalid_request"


def test_missing_fields_are_listed_field_by_field(platform, raw_api):
    response = post(raw_api, platform, "/api/v1/members", body={"name": "A"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_request"
    assert set(error["details"]) == {"user_id", "kind"}
    assert all(isinstance(v, list) and v for v in error["details"].values())


def test_wrong_types_answer_400_not_500(platform, raw_api):
    for body in [{"user_id": 12, "name": "A", "kind": "individual"},
                 {"user_id": ["x"], "name": {"a": 1}, "kind": "individual"},
                 {"user_id": "u", "name": "A", "kind": "robot"},
                 {"user_id": "u", "name": "A", "kind": "individual", "roles": "buyer"},
                 {"user_id": "u\x00x", "name": "A", "kind": "individual"},
                 {"user_id": "u" * 65, "name": "A", "kind": "individual"},
                 {"user_id": "", "name": "A", "kind": "individual"}]:
        response = post(raw_api, platform, "/api/v1/members", body=body)
        assert response.status_code == 400, (body, response.content)
        assert error_of(response)["code"] == "invalid_request"


def test_unknown_fields_are_ignored(platform, raw_api):
    response = post(raw_api, platform, "/api/v1/members", body={
        "user_id": "u-1", "name": "A", "kind": "individual", "favourite_colour": "red", "nested": {"x": [1]}})
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("amount", [12, 12.5, "1e3", "NaN", "Infinity", "-1.00", "0", "0.00", "1.001",
                                    "1000000000000.00", "", " ", "1,000.00", "¥5", None, True, [], {}, "0x10",
                                    10 ** 30, "1" * 400])
def test_bad_amounts_answer_invalid_amount(platform, raw_api, amount):
    add_member(platform, "u-1")
    response = post(raw_api, platform, "/api/v1/deposits", body={
        "user_id": "u-1", "amount": amount, "order_no": "D-1", "method": "offline_transfer"})
    assert response.status_code == 400, (amount, response.content)
    error = error_of(response)
    assert error["code"] in ("invalid_amount", "invalid_request")
    if amount is not None:
        assert error["code"] == "invalid_amount", amount
        assert "amount" in error["details"]


@pytest.mark.parametrize("amount", ["0.01", "1250.00", "1250", "999999999999.99", "7.5"])
def test_good_amounts_are_accepted(platform, raw_api, amount):
    add_member(platform, "u-1")
    response = post(raw_api, platform, "/api/v1/deposits", body={
        "user_id": "u-1", "amount": amount, "order_no": f"D-{amount}", "method": "offline_transfer"})
    assert response.status_code == 201, response.content


def test_a_non_json_content_type_answers_415(platform, raw_api):
    response = post(raw_api, platform, "/api/v1/members", raw=b"user_id=u-1", content_type="text/plain")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_huge_body_answers_413(platform, raw_api):
    response = post(raw_api, platform, "/api/v1/members", body={"user_id": "u", "name": "x" * 5000,
                                                                 "kind": "individual"})
    assert response.status_code == 413
    assert error_of(response)["code"] == "request_too_large"


def test_application_errors_keep_their_status_and_code(platform, raw_api):
    add_member(platform, "u-1")
    response = post(raw_api, platform, "/api/v1/members", body={"user_id": "u-1", "name": "A", "kind": "individual"})
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "duplicate" and error["details"] == {"user_id": [error["message"]]}


# --- the last resort: never HTML or a traceback to an API client, even with DEBUG on ---------

def _explode(*args, **kwargs):
    raise RuntimeError("secret-internal-detail")


@pytest.mark.parametrize("debug", [True, False])
def test_an_error_while_rendering_answers_the_envelope_even_with_debug(platform, raw_api, monkeypatch, debug):
    """Given a bug that escapes DRF's handler (here: the renderer itself fails), when a platform
    calls, then it gets the 500 envelope as JSON: no HTML page, no traceback, no settings."""
    from rest_framework.renderers import JSONRenderer

    add_member(platform, "u-1")
    monkeypatch.setattr(JSONRenderer, "render", _explode)
    with override_settings(DEBUG=debug):
        response = raw_api.as_platform(platform, "GET", "/api/v1/members/u-1")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "internal_error"
    assert b"secret-internal-detail" not in response.content and b"Traceback" not in response.content


@override_settings(DEBUG=True)
def test_django_pages_under_api_become_the_envelope_with_debug(platform, raw_api):
    response = Client().get("/api/nothing-here")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "not_found"
    response = Client(HTTP_HOST="evil.example").get("/api/v1/members")  # DisallowedHost: Django's 400 page
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_request"


@override_settings(DEBUG=True)
def test_a_database_error_outside_drf_answers_503_with_retry_after(platform, raw_api, monkeypatch):
    from django import db
    from rest_framework.renderers import JSONRenderer

    def lost(*args, **kwargs):
        raise db.OperationalError("server closed the connection unexpectedly")

    add_member(platform, "u-1")
    monkeypatch.setattr(JSONRenderer, "render", lost)
    response = raw_api.as_platform(platform, "GET", "/api/v1/members/u-1")
    assert response.status_code == 503 and response["Retry-After"]
    assert error_of(response)["code"] == "database_unavailable"
