"""End of day (日末批量勾对) for one merchant and business date.

1. The platform's order file against the ledger's journal entries of the date, set-based in
   SQL (reconciliation/sql/eod_orders.sql): matched, missing_in_ledger, missing_in_orders,
   amount_mismatch, and party_mismatch (same amount, but the order file's payer or payee is
   not the member the ledger booked). No order file for the date is itself a difference.
2. 总分平衡: hot balances are rolled up, then ledger.selectors.prove_merchant proves that the
   supervision balance equals the sum of the virtual balances and that every materialised
   balance equals the sum of its postings.
3. The book supervision balance at the end of the date (postings of entries with a business
   date up to it) against the bank's closing balance: the balance on the last imported
   statement line with a value date up to it. A statement not yet imported through the date
   is a difference too (rerun the day after importing it).
Every difference is an EodDifference row and opens a DiscrepancyCase (services.cases). A rerun
replaces the run's result, updates the cases and closes the ones that went away."""
import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
# gettext itself, not an alias: makemessages only extracts the names it knows.
from django.utils.translation import gettext

from core.actors import as_actor
from core.locks import Lock, xact_lock
from core.money import quantize
from core.workflow import transition
from ledger.models import Account, AccountKind, EntryType
from ledger.posting import roll_up_hot_balances
from ledger.selectors import channel_in_transit, prove_merchant

from .. import sql
from ..models import EodDifference, EodRun, OrderFile, OrderFileLine, StatementBatch, StatementLine
from ..models.eod import DifferenceKind
from . import cases

# Which journal entries are the platform's orders, and of which type. The other entry types
# (releases, holds, suspense, paid/returned withdrawals, reversals ...) follow an order the
# platform already reported, or are the bank's own bookings.
ENTRY_ORDER_TYPES = {
    EntryType.DEPOSIT: "deposit",
    EntryType.PAYMENT: "payment",
    EntryType.PAYMENT_HOLD: "payment",
    EntryType.CREDIT_DRAWDOWN: "payment",
    EntryType.REFUND: "refund",
    EntryType.WITHDRAWAL_REQUEST: "withdrawal",
}
EOD_WORK_MEM = "256MB"
_EOD_LOCK = int(Lock.END_OF_DAY)  # with the merchant id: one run per merchant at a time


def _orders_sql() -> str:
    case = "CASE e.entry_type " + " ".join(
        f"WHEN '{entry_type}' THEN '{order_type}'" for entry_type, order_type in ENTRY_ORDER_TYPES.items()
    ) + " ELSE 'deposit' END"  # the ELSE is the suspense_match-to-deposit branch
    types = ", ".join(f"'{entry_type}'" for entry_type in ENTRY_ORDER_TYPES)
    return sql.load("eod_orders").format(order_type=case, entry_types=types)


def eod_run(*, merchant, business_date: datetime.date, actor) -> EodRun:
    actor = as_actor(actor)
    hot = list(Account.objects.filter(merchant=merchant, is_hot=True).values_list("pk", flat=True))
    if hot:  # its own short transaction: hot postings must not wait for the whole run
        roll_up_hot_balances(hot)
    with transaction.atomic():
        xact_lock(_EOD_LOCK, merchant.pk)
        run, created = EodRun.objects.select_for_update(no_key=True).get_or_create(
            merchant=merchant, business_date=business_date,
            defaults={"started_by": actor.user, "actor_label": actor.label[:150]},
        )
        if not created:
            run.difference_rows.all().delete()
            transition(run, "restart", actor=actor, reason=gettext("Rerun"))
        run.started_at, run.finished_at = timezone.now(), None
        run.started_by, run.actor_label = actor.user, actor.label[:150]
        run.runs += 1
        _match_orders(run)
        _prove(run)
        _compare_with_bank(run)
        counts = dict(run.difference_rows.values_list("kind").annotate(n=Count("id")))
        run.missing_in_ledger = counts.get(DifferenceKind.MISSING_IN_LEDGER, 0)
        run.missing_in_orders = counts.get(DifferenceKind.MISSING_IN_ORDERS, 0)
        run.amount_mismatches = counts.get(DifferenceKind.AMOUNT_MISMATCH, 0)
        run.party_mismatches = counts.get(DifferenceKind.PARTY_MISMATCH, 0)
        run.matched = max(run.orders - run.missing_in_ledger - run.amount_mismatches - run.party_mismatches, 0)
        run.entries = run.matched + run.amount_mismatches + run.party_mismatches + run.missing_in_orders
        run.differences = sum(counts.values())
        run.finished_at = timezone.now()
        run.save()
        cases.cases_sync(run=run, actor=actor)
        transition(run, "finish_with_discrepancies" if run.differences else "finish_balanced", actor=actor,
                   data={"matched": run.matched, "missing_in_ledger": run.missing_in_ledger,
                         "missing_in_orders": run.missing_in_orders, "amount_mismatches": run.amount_mismatches,
                         "party_mismatches": run.party_mismatches,
                         "differences": run.differences, "supervision_balance": run.supervision_balance,
                         "virtual_total": run.virtual_total, "bank_closing_balance": run.bank_closing_balance,
                         "book_closing_balance": run.book_closing_balance})
    return run


def _match_orders(run: EodRun):
    order_file = (OrderFile.objects.filter(merchant=run.merchant, business_date=run.business_date)
                  .exclude(status=OrderFile.Status.SUPERSEDED).order_by("-id").first())
    run.order_file = order_file
    if order_file is None:
        run.orders = 0
        EodDifference.objects.create(
            merchant=run.merchant, run=run, kind=DifferenceKind.ORDER_FILE_MISSING, key="",
            detail=gettext("The platform has not sent its order file for this date."))
        return
    run.orders = OrderFileLine.objects.filter(order_file=order_file).count()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Both sides of a big day hash-join in memory instead of spilling to disk (this
            # transaction only).
            cursor.execute(f"SET LOCAL work_mem = '{EOD_WORK_MEM}'")
        cursor.execute(_orders_sql(), {"merchant": run.merchant_id, "run": run.pk, "day": run.business_date,
                                       "order_file": order_file.pk})
    _describe_party_mismatches(run)
    if order_file.status != OrderFile.Status.RECONCILED:
        OrderFile.objects.filter(pk=order_file.pk).update(status=OrderFile.Status.RECONCILED)


def _describe_party_mismatches(run: EodRun):
    """Say which party differs, as each side names it (the SQL writes no text: it is translated
    here). Few rows on a real day: the platform and the ledger mostly agree on who paid whom."""
    rows = list(run.difference_rows.filter(kind=DifferenceKind.PARTY_MISMATCH).only(
        "id", "platform_payer", "platform_payee", "ledger_payer", "ledger_payee"))
    for row in rows:
        row.detail = _party_detail(row)[:255]
    EodDifference.objects.bulk_update(rows, ["detail"], batch_size=1000)


def _party_detail(row) -> str:
    """E.g. "payer: order file u-1, ledger u-2", for each party the two sides name differently."""
    parts = []
    for label, platform, ledger in ((gettext("payer"), row.platform_payer, row.ledger_payer),
                                    (gettext("payee"), row.platform_payee, row.ledger_payee)):
        if platform and ledger and platform != ledger:
            parts.append(gettext("%(party)s: order file %(platform)s, ledger %(ledger)s")
                         % {"party": label, "platform": platform, "ledger": ledger})
    return "; ".join(parts)


def _prove(run: EodRun):
    proof = prove_merchant(run.merchant)
    run.supervision_balance, run.virtual_total = proof.supervision_balance, proof.virtual_total
    run.totals_balance, run.postings_match = proof.totals_balance, proof.postings_match
    rows = []
    if not proof.totals_balance:
        rows.append(EodDifference(
            merchant=run.merchant, run=run, kind=DifferenceKind.TOTALS_UNBALANCED, key="",
            expected_amount=proof.supervision_balance, actual_amount=proof.virtual_total,
            detail=gettext("The supervision balance is not the sum of the virtual balances.")))
    for account_id, materialised, posted in proof.mismatched_accounts:
        rows.append(EodDifference(
            merchant=run.merchant, run=run, kind=DifferenceKind.BALANCE_NOT_POSTINGS, key=f"account:{account_id}",
            expected_amount=posted, actual_amount=materialised,
            detail=gettext("Account #%(id)s: its balance is not the sum of its postings.") % {"id": account_id}))
    EodDifference.objects.bulk_create(rows)


def book_supervision_balance(merchant, business_date: datetime.date) -> Decimal:
    """The supervision account's balance at the end of a business date, from its postings."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT ROUND(COALESCE(SUM(p.amount), 0), 2) FROM ledger_posting p
               JOIN ledger_journalentry e ON e.id = p.entry_id
               JOIN ledger_account a ON a.id = p.account_id
               WHERE p.merchant_id = %s AND a.merchant_id = %s AND a.kind = %s AND a.member_id IS NULL
                 AND e.business_date <= %s""",
            [merchant.pk, merchant.pk, AccountKind.SUPERVISION, business_date],
        )
        return quantize(Decimal(str(cursor.fetchone()[0] or 0)))


def bank_closing_balance(merchant, business_date: datetime.date) -> tuple[bool, Decimal | None]:
    """(statement imported through the date, closing balance): the balance on the last line with
    a value date up to the date, or, when the account had no line by then, the balance before
    the first later line. Lines within a day are taken in file order (banks export oldest first)."""
    account = merchant.supervision_account_number or ""
    imported = StatementBatch.objects.filter(merchant=merchant, account_number=account,
                                             status=StatementBatch.Status.POSTED,
                                             last_value_date__gte=business_date).exists()
    lines = StatementLine.objects.filter(merchant=merchant, account_number=account, balance__isnull=False)
    last = (lines.filter(value_date__lte=business_date).order_by("-value_date", "-batch_id", "-line_no")
            .values_list("balance", flat=True).first())
    if last is not None:
        return imported, last
    after = (lines.filter(value_date__gt=business_date).order_by("value_date", "batch_id", "line_no")
             .values_list("balance", "amount").first())
    return imported, (after[0] - after[1]) if after else None


def _compare_with_bank(run: EodRun):
    # Channel deposits are booked on the channel's notification, before the channel settles the
    # money to the bank: the bank can only show the book balance less that money in transit.
    run.book_closing_balance = (book_supervision_balance(run.merchant, run.business_date)
                                - channel_in_transit(run.merchant, run.business_date))
    imported, balance = bank_closing_balance(run.merchant, run.business_date)
    run.bank_closing_balance = balance if imported else None
    if not imported or balance is None:
        EodDifference.objects.create(
            merchant=run.merchant, run=run, kind=DifferenceKind.BANK_STATEMENT_MISSING, key="",
            actual_amount=run.book_closing_balance,
            detail=gettext("No bank statement with a balance has been imported through this date."))
    elif balance != run.book_closing_balance:
        EodDifference.objects.create(
            merchant=run.merchant, run=run, kind=DifferenceKind.BANK_BALANCE_MISMATCH, key="",
            expected_amount=balance, actual_amount=run.book_closing_balance,
            detail=gettext("The bank's closing balance differs from the book by %(diff)s.")
            % {"diff": balance - run.book_closing_balance})
