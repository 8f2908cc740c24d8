"""`manage.py bench [--quick] [--json PATH]`: the benchmark (see bench/runner.py)."""
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Benchmark Jianguan beside PostgreSQL's own TPC-B and a plain-SQL ledger on one cluster: payments "
            "(cold, hot seller, guaranteed hold + release) at 1 and 8 worker processes, the signed API through "
            "gunicorn, statement import and end of day. Starts a throwaway durable cluster unless DATABASE_URL "
            "names a PostgreSQL server (then it works in fresh databases beside it). --quick runs every part "
            "small, in about two minutes.")
    requires_system_checks = []  # the parent only creates a database; the child process runs the checks
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="small sizes and 5-second measurements")
        parser.add_argument("--json", dest="json_path", metavar="PATH", help="also write the results as JSON")
        parser.add_argument("--seconds", type=int, help="length of each measurement")
        parser.add_argument("--members", type=int, help="members of the loaded merchant")
        parser.add_argument("--postings", type=int, help="postings of its history (at least)")
        parser.add_argument("--pgbench-scale", type=int, help="pgbench scale factor")
        parser.add_argument("--statement-lines", type=int, help="lines of the imported statement")
        parser.add_argument("--eod-orders", type=int, help="orders (and entries) of the end-of-day run")
        parser.add_argument("--rounds", type=int,
                            help="split each measurement into this many interleaved rounds (full: 3, quick: 1)")
        parser.add_argument("--in-place", action="store_true",
                            help="for the test suite: use the configured, already migrated database as it is")

    def handle(self, *args, **options):
        from bench import runner
        from bench.cluster import ClusterError

        overrides = {name: options[name] for name in
                     ("seconds", "members", "postings", "pgbench_scale", "statement_lines", "eod_orders", "rounds")}
        for name, value in overrides.items():
            if value is not None and value < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        try:
            code = runner.main(runner.Options(quick=options["quick"], json_path=options["json_path"],
                                              in_place=options["in_place"], overrides=overrides))
        except ClusterError as error:
            raise CommandError(str(error)) from None
        if code:
            raise CommandError(f"the benchmark failed (exit status {code})", returncode=code)
