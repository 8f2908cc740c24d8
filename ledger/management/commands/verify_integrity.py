from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ledger.integrity import first_break
from merchants.models import Merchant


class Command(BaseCommand):
    help = ("Re-prove the audit hash chain, every entry's balance, every materialised balance and "
            "total = sum of parts. Exits non-zero with the first break found.")

    def add_arguments(self, parser):
        parser.add_argument("--merchant", help="merchant code (default: every merchant)")

    def handle(self, *args, **options):
        merchant = None
        if options["merchant"]:
            merchant = Merchant.objects.filter(code=options["merchant"]).first()
            if merchant is None:
                raise CommandError(_("No merchant with code %(code)s.") % {"code": options["merchant"]})
        problem = first_break(merchant)
        if problem:
            raise CommandError(_("Integrity break: %(problem)s") % {"problem": problem})
        self.stdout.write(self.style.SUCCESS(_("Integrity verified: audit chain, entries, balances, total = sum of parts.")))
