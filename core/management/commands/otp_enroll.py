import io

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.actors import Actor
from core.audit import audit_record


class Command(BaseCommand):
    help = ("Issue a TOTP second factor to a staff user: prints the otpauth:// URI and a QR code "
            "for their authenticator app. Replaces the user's existing TOTP devices.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--no-qr", action="store_true")

    @transaction.atomic
    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None or not user.is_staff:
            raise CommandError(_("No staff user named %(name)s.") % {"name": options["username"]})
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        audit_record(actor=Actor.system("otp_enroll"), obj=user, action="otp_enroll",
                     data={"device": device.pk})
        uri = device.config_url
        self.stdout.write(uri)
        if not options["no_qr"]:
            import qrcode

            qr = qrcode.QRCode(border=1)
            qr.add_data(uri)
            out = io.StringIO()
            qr.print_ascii(out=out, invert=True)
            self.stdout.write(out.getvalue())
