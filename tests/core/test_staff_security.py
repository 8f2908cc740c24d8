"""Staff sign-in: second factor when required, lockout after repeated failures, security headers."""
import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import security
from tests import factories as f

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def second_factor(settings):
    """Turn the second factor on as production does, and off again after the test."""
    from django.contrib import admin

    settings.JIANGUAN_REQUIRE_2FA = True
    saved = (admin.site.login_form, admin.site.has_permission)
    security.install_on_admin_site()
    yield
    admin.site.login_form, admin.site.has_permission = saved


def _token(device):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def test_with_the_second_factor_a_password_alone_does_not_sign_in(client, second_factor):
    # given a staff user with a TOTP device
    user = f.ops()
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    # when they sign in with the password only, then they stay out
    response = client.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302
    # when they add the current code, then they are in
    response = client.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD,
                                                    "otp_device": "", "otp_token": _token(device)})
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_with_the_second_factor_a_password_only_session_is_refused(client, second_factor):
    user = f.ops()
    client.force_login(user)  # a session without OTP verification
    response = client.get(reverse("admin:merchants_merchant_changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_the_login_form_asks_for_the_code(client, second_factor):
    assert 'name="otp_token"' in client.get(reverse("admin:login")).content.decode()


def test_repeated_failures_lock_the_account_out(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = f.ops()
    for _ in range(3):
        client.post(reverse("admin:login"), {"username": user.username, "password": "wrong"})
    response = client.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert 'id="locked-out"' in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_responses_carry_a_content_security_policy(client):
    response = client.get(reverse("admin:login"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_weak_passwords_are_refused():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ("password123", "12345678901234", "short"):
        with pytest.raises(ValidationError):
            validate_password(weak)


def test_otp_enroll_prints_a_provisioning_uri(capsys):
    from django.core.management import call_command

    user = f.ops()
    call_command("otp_enroll", user.username, no_qr=True)
    assert capsys.readouterr().out.startswith("otpauth://totp/")
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
