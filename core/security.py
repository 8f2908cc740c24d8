"""Staff sign-in security: the second factor (TOTP, django-otp) on the admin.

When settings.JIANGUAN_REQUIRE_2FA is on (always, when debug is off) the admin's login form
asks for a one-time code from the staff member's TOTP device, and every admin page refuses a
session that was not verified with one. Devices are issued by the bank's IT with
`python manage.py otp_enroll USERNAME` (prints the otpauth:// URI / QR for the authenticator)."""
from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse


def second_factor_required() -> bool:
    return bool(getattr(settings, "JIANGUAN_REQUIRE_2FA", False))


class StaffSecondFactorMiddleware:
    """Logs out of the admin any authenticated session that is not OTP-verified while the
    second factor is required (e.g. a session that predates turning it on)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if second_factor_required() and request.path.startswith("/admin/"):
            user = getattr(request, "user", None)
            exempt = request.path.startswith((reverse("admin:login"), reverse("admin:logout"), "/admin/jsi18n/"))
            if user is not None and user.is_authenticated and not exempt and not user.is_verified():
                from django.contrib.auth import logout

                logout(request)
                return redirect(f"{reverse('admin:login')}?next={request.path}")
        return self.get_response(request)


def _login_form():
    from django_otp.admin import OTPAdminAuthenticationForm
    from django_otp.plugins.otp_totp.models import TOTPDevice

    class StaffLoginForm(OTPAdminAuthenticationForm):
        """Password + the code of the staff member's one TOTP device (no device picker)."""

        def _chosen_device(self, user):
            return super()._chosen_device(user) or (
                TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
            )

    return StaffLoginForm


def install_on_admin_site():
    """Called from CoreConfig.ready(): the admin login asks for the one-time code."""
    if not second_factor_required():
        return
    site = admin.site
    site.login_form = _login_form()
    original = site.has_permission

    def has_permission(request):
        return original(request) and request.user.is_verified()

    site.has_permission = has_permission
