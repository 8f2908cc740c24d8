import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Load demo data (idempotent): a staff user per role, two active merchants with members and history."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print only the merchants' credentials and staff logins as JSON.")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(_("seed_demo refuses to run with DJANGO_DEBUG off: demo passwords are public."))
        from demo.seed import seed

        result = seed()
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        self.stdout.write(self.style.SUCCESS(_("Demo data ready.")))
        self.stdout.write(_("Staff logins (username / password / role):"))
        for row in result["staff"]:
            self.stdout.write(f"  {row['username']:<12} {row['password']:<26} {row['role']}")
        self.stdout.write(_("Merchants (code / app id / supervision account):"))
        for row in result["merchants"]:
            self.stdout.write(f"  {row['code']:<14} {row['app_id']} {row['supervision_account']}")
