"""python manage.py run_eod --date YYYY-MM-DD [--merchant CODE]

Runs the end of day (日末批量勾对) now, in this process, for one merchant or for every active
or frozen one. Rerunning a day replaces its result. Exit status 0 when every run finished
(balanced or with discrepancies: those become cases), 1 when a run could not be made."""
import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from core.actors import Actor
from core.errors import ApplicationError
from merchants.models import Merchant
from reconciliation.services.eod import eod_run


class Command(BaseCommand):
    help = "Run the end-of-day reconciliation for a business date."

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="business date, YYYY-MM-DD")
        parser.add_argument("--merchant", help="merchant code (default: every active or frozen merchant)")

    def handle(self, *args, **options):
        try:
            day = datetime.date.fromisoformat(options["date"])
        except ValueError:
            raise CommandError(gettext("Write the date as YYYY-MM-DD.")) from None
        merchants = Merchant.objects.filter(status__in=(Merchant.Status.ACTIVE, Merchant.Status.FROZEN))
        if options["merchant"]:
            merchants = Merchant.objects.filter(code=options["merchant"])
            if not merchants.exists():
                raise CommandError(gettext("No merchant with the code %(code)s.") % {"code": options["merchant"]})
        failed = 0
        for merchant in merchants.order_by("code"):
            try:
                run = eod_run(merchant=merchant, business_date=day, actor=Actor.system("run_eod"))
            except ApplicationError as err:
                failed += 1
                self.stderr.write(f"{merchant.code}: {err.message}")
                continue
            self.stdout.write(
                f"{merchant.code} {day.isoformat()} {run.status}: matched={run.matched} "
                f"missing_in_ledger={run.missing_in_ledger} missing_in_orders={run.missing_in_orders} "
                f"amount_mismatches={run.amount_mismatches} party_mismatches={run.party_mismatches} "
                f"differences={run.differences}")
        if failed:
            raise CommandError(gettext("%(n)s run(s) failed.") % {"n": failed})
