"""RM performance for the bank's appraisal system:

    python manage.py rm_performance --period 2026-11 [--format csv|xlsx|json] [--output PATH] [--snapshot]

Prints CSV or JSON to standard output (XLSX needs --output). The figures of a period that has
a snapshot are the snapshot's (column `source`); --snapshot takes the period's snapshot first
for the RMs that have none (a finished period only)."""
import sys

from django.core.management.base import BaseCommand, CommandError

from core.actors import Actor
from core.errors import ApplicationError

from ... import exports
from ...selectors import performance as perf
from ...services import performance_snapshot_take


class Command(BaseCommand):
    help = "Export RM performance (绩效考核数据) for a month (2026-11), quarter (2026Q4) or year (2026)."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="2026-11, 2026Q4 or 2026")
        parser.add_argument("--format", default="csv", choices=sorted(exports.FORMATS))
        parser.add_argument("--output", help="write to this file instead of standard output")
        parser.add_argument("--snapshot", action="store_true",
                            help="first freeze the period's figures (only once the period has ended)")

    def handle(self, *args, period, format, output, snapshot, **options):
        try:
            period = perf.parse_period(period)
        except ApplicationError as err:
            raise CommandError(str(err.message)) from None
        if snapshot:
            if period.end >= perf.today():
                raise CommandError(f"{period.key} has not ended yet: nothing to freeze.")
            created = performance_snapshot_take(period=period, actor=Actor.system("rm_performance command"),
                                                as_of=period.end)
            self.stderr.write(f"snapshot {period.key}: {len(created)} new")
        rows = perf.with_snapshots(period, perf.performance(period))
        render, _content_type, _extension = exports.FORMATS[format]
        data = render(period, rows)
        if output:
            with open(output, "wb") as out:
                out.write(data)
            self.stderr.write(f"{len(rows)} relationship managers → {output}")
        elif format == "xlsx":
            raise CommandError("XLSX is a binary file: give --output PATH.")
        else:
            sys.stdout.buffer.write(data if format != "csv" else data.removeprefix("\ufeff".encode()))
            sys.stdout.flush()
