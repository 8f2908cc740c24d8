"""The jianguan_client package: errors, amounts, cursors, paths."""
from decimal import Decimal

import pytest

from core.api import signing
from jianguan_client import JianguanClient, JianguanError

from .conftest import add_member
from .transport import BASE_URL, django_session

pytestmark = pytest.mark.django_db


def test_errors_carry_status_code_message_and_details(platform):
    with pytest.raises(JianguanError) as err:
        platform.client.create_member(user_id="", name="", kind="robot")
    error = err.value
    assert (error.status, error.code) == (400, "invalid_request")
    assert set(error.details) >= {"user_id", "kind"} and error.message


def test_a_wrong_secret_raises_unauthenticated(platform):
    client = JianguanClient(BASE_URL, platform.app_id, "not-the-secret", session=django_session())
    with pytest.raises(JianguanError) as err:
        client.get_member("u-1")
    assert (err.value.status, err.value.code, err.value.details) == (401, "unauthenticated",
                                                                     {"reason": "signature_mismatch"})


def test_amounts_are_sent_as_strings_never_floats(platform):
    add_member(platform, "u-1")
    deposit = platform.client.create_deposit(user_id="u-1", amount=Decimal("12.30"), order_no="D-1")
    assert deposit["amount"] == "12.30"
    with pytest.raises(TypeError):
        platform.client.create_deposit(user_id="u-1", amount=12.3, order_no="D-2")


def test_user_ids_are_escaped_in_paths(platform):
    add_member(platform, "weird id?x=1&y#z%")
    assert platform.client.get_member("weird id?x=1&y#z%")["user_id"] == "weird id?x=1&y#z%"
    assert platform.client.get_balance("weird id?x=1&y#z%")["available"] == "0.00"


def test_a_user_id_with_a_slash_is_refused_as_unaddressable(platform):
    with pytest.raises(JianguanError) as err:
        add_member(platform, "a/b")
    assert err.value.status == 400 and "user_id" in err.value.details


def test_the_signature_is_the_shared_scheme():
    # the canonical string of API.md, line by line
    text = signing.canonical_string("post", "/api/v1/payments?limit=10", 1700000000, "n" * 16, b"{}")
    assert text.split("\n") == ["POST", "/api/v1/payments?limit=10", "1700000000", "n" * 16,
                                "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"]
