"""python manage.py import_statement PATH --account SUPERVISION_ACCOUNT_NUMBER [--json]

PATH is the file as the bank exported it: .xlsx, .xls or CSV (recognised by its content, not its
name), in any layout the statement layouts recognise.

Exit status 0 when the file was taken (lines imported, or all duplicates), 1 when it was
refused (unknown account, unreadable file or rows: nothing was booked)."""
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils.translation import gettext

from core.actors import Actor
from reconciliation.services.imports import statement_import


class Command(BaseCommand):
    help = "Import a bank statement (or transfer receipts) file, CSV, .xlsx or .xls, into a supervision account."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the file as the bank exported it: .xlsx, .xls, or CSV in UTF-8 or GBK")
        parser.add_argument("--account", required=True, help="the supervision account number")
        parser.add_argument("--json", action="store_true", help="print only the result as JSON")
        parser.add_argument("--dry-run", action="store_true", help="check and match, then roll everything back")

    def handle(self, *args, **options):
        path = Path(options["path"])
        as_json = options["json"]
        if not path.is_file():
            return self._refused(as_json, gettext("No such file: %(path)s") % {"path": path})
        progress = None if as_json or options["verbosity"] < 2 else (
            lambda n: self.stderr.write(gettext("%(n)s lines read") % {"n": n}))
        with path.open("rb") as stream:
            result = statement_import(account_number=options["account"], stream=stream, file_name=path.name,
                                      actor=Actor.system("import_statement"), dry_run=options["dry_run"],
                                      progress=progress)
        if as_json:
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
        else:
            self._report(result)
        if result.refused:
            sys.exit(1)

    def _refused(self, as_json, message):
        if as_json:
            self.stdout.write(json.dumps({"rows": 0, "imported": 0, "duplicates": 0, "matched": 0, "unmatched": 0,
                                          "errors": [{"line": None, "reason": message}]}, ensure_ascii=False))
        else:
            self.stderr.write(message)
        sys.exit(1)

    def _report(self, result):
        if result.refused:
            self.stderr.write(gettext("Refused: nothing was imported."))
            for error in result.errors:
                where = gettext("line %(n)s") % {"n": error["line"]} if error["line"] else gettext("file")
                if error.get("sheet"):
                    where = f"{error['sheet']} · {where}"
                self.stderr.write(f"  {where}: {error['reason']}")
            return
        self.stdout.write(gettext("%(rows)s rows: %(imported)s imported (%(matched)s matched, %(unmatched)s in the "
                             "exception queue), %(duplicates)s duplicates skipped%(dry)s.") % {
            "rows": result.rows, "imported": result.imported, "matched": result.matched,
            "unmatched": result.unmatched, "duplicates": result.duplicates,
            "dry": gettext(" — dry run, nothing kept") if result.dry_run else ""})
