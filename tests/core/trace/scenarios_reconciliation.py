"""reconciliation.services: imports book through the ledger (journal entries) and record the
file (an audit record); the exception queue, end of day, cases, layouts and order files are
decisions (audit records)."""
import itertools

from core.errors import InvalidState, ValidationFailed
from ledger.calendar import business_date_for
from ledger.channels import channel_notification_accept
from ledger.services import channels, deposits
from reconciliation.models import DiscrepancyCase, StatementLayout, StatementLine
from reconciliation.services import cases, eod, exception_queue, imports, layouts, orders
from tests import factories as f
from tests.core.trace import AUDIT, BOTH, NOT_SERVICES, STEPS, refusal, scenario
from tests.reconciliation.builders import announce, english, funded, withdrawal

_seq = itertools.count(1)
DAY = "2026-11-24"
SETTLEMENT_ACCOUNT = "6222000088880002"

NOT_SERVICES.update({
    "reconciliation.services.eod.book_supervision_balance": "sum: the book supervision balance at a date's end",
    "reconciliation.services.eod.bank_closing_balance": "read: the bank's closing balance from imported lines",
    "reconciliation.services.imports.merchant_for_account": "query: the merchant of a supervision account",
    "reconciliation.services.line_store.already_imported": "query: the bank references an account already has",
    "reconciliation.services.money_in.payment_codes_in": "parses the payment codes a remark may carry",
    "reconciliation.services.money_in.suspense_reference": "builds a parked line's idempotency key",
    "reconciliation.services.money_in.settling_channels": "query: payment channels by settlement account",
    "reconciliation.services.money_in.account_key": "normalises an account number for comparison",
    "reconciliation.services.money_in.settled_note": "formats a settled channel line's note",
    # The automatic matcher's steps book inside statement_import's transaction, whose entries
    # and audit record are the trace.
    "reconciliation.services.money_in.match_channel_settlements": "a step of statement_import: settles channels",
    "reconciliation.services.money_in.match_money_in": "a step of statement_import: credits proven deposits",
    "reconciliation.services.money_in.park_in_suspense": "a step of statement_import: parks unexplained money in",
    "reconciliation.services.money_out.match_money_out": "a step of statement_import: matches paid withdrawals",
    "reconciliation.services.orders.parse_business_date": "parses a business date",
    # A file between its preview and its confirm lives on disk and in a signed token, not in the
    # database; the import the job then runs (statement_import) leaves the trace.
    "reconciliation.services.uploads.keep": "stores an uploaded file on disk until its confirm; no row",
    "reconciliation.services.uploads.kept": "finds a kept upload on disk",
    "reconciliation.services.uploads.discard": "deletes a kept upload from disk",
    "reconciliation.services.uploads.issue_token": "signs a confirm token; writes nothing",
    "reconciliation.services.uploads.open_token": "checks a confirm token; writes nothing",
    "reconciliation.services.uploads.take": "hands a kept file to the import job (a file move; no row)",
    "reconciliation.services.line_store.insert_lines": "writes an import's lines in statement_import's "
                                                       "transaction, whose audit record is the trace",
})
STEPS.update({name: "reconciliation.services.imports.statement_import" for name in (
    "reconciliation.services.line_store.insert_lines",
    "reconciliation.services.money_in.match_channel_settlements",
    "reconciliation.services.money_in.match_money_in",
    "reconciliation.services.money_in.park_in_suspense",
    "reconciliation.services.money_out.match_money_out",
)})


def _import(merchant, *rows):
    result = imports.statement_import(account_number=merchant.supervision_account_number, stream=english(rows),
                                      actor=None)
    assert not result.refused, result.errors
    return result


def _line(merchant, amount, remark="no code at all"):
    """A line of the merchant's statement waiting in the exception queue."""
    reference = f"R{next(_seq)}"
    _import(merchant, (reference, DAY, amount, "Some Payer", "6222111122223333", "ICBC", remark, ""))
    line = StatementLine.objects.get(merchant=merchant, bank_reference=reference)
    assert line.status == StatementLine.Status.UNMATCHED
    return line


def _case():
    eod.eod_run(merchant=f.active_merchant(), business_date=business_date_for(), actor=None)
    return DiscrepancyCase.objects.filter(kind="order_file_missing").latest("pk")


@scenario(imports.statement_import, leaves=BOTH)
def a_statement_with_money_no_deposit_explains():
    merchant = f.active_merchant()
    return dict(account_number=merchant.supervision_account_number, actor=None, file_name="stmt.csv",
                stream=english([("R1", DAY, "80.00", "Some Payer", "6222111122223333", "ICBC", "no code", "")]))


@scenario(exception_queue.statement_line_match_to_deposit, leaves=BOTH)
def operations_match_a_parked_line_to_its_deposit():
    merchant = f.active_merchant()
    line = _line(merchant, "80.00")
    deposit = announce(merchant, f.member(merchant), "80.00", "D-1")
    return dict(line=line, deposit=deposit, actor=f.ops(), reason="Payer forgot the code")


@scenario(exception_queue.statement_line_match_to_member, leaves=BOTH)
def operations_match_a_parked_line_to_a_member():
    merchant = f.active_merchant()
    return dict(line=_line(merchant, "80.00"), member=f.member(merchant), actor=f.ops(), reason="Member called")


@scenario(exception_queue.statement_line_return, leaves=BOTH)
def operations_return_a_parked_line():
    merchant = f.active_merchant()
    return dict(line=_line(merchant, "80.00"), actor=f.ops(), reason="Unknown payer")


@scenario(exception_queue.statement_line_match_to_withdrawal, leaves=AUDIT)
def operations_match_money_out_to_a_paid_withdrawal():
    merchant = f.active_merchant()
    member = f.member(merchant)
    funded(merchant, member, "100.00")
    paid = withdrawal(merchant, member, "30.00", "W-1")
    return dict(line=_line(merchant, "-30.00", remark="transfer out"), withdrawal=paid, actor=f.ops(),
                reason="Paid before the import")


@scenario(exception_queue.statement_line_ignore, leaves=AUDIT)
def operations_ignore_the_bank_s_own_fee():
    return dict(line=_line(f.active_merchant(), "-2.00", remark="bank fee"), actor=f.ops(), reason="Bank fee")


@scenario(exception_queue.statement_line_settle_channel, leaves=AUDIT)
def a_late_notification_makes_a_channel_settlement_add_up():
    merchant, n = f.active_merchant(), next(_seq)
    channel = channels.payment_channel_create(actor=f.ops(), code=f"rpay{n}", name="RPay", app_id=f"rpay-{n}",
                                              secret="s3cret", settlement_account=SETTLEMENT_ACCOUNT)
    member = f.member(merchant)
    announced = [deposits.deposit_announce(merchant=merchant, actor=None, member=member, amount=amount,
                                           order_no=f"C-{i}", method="channel", channel=channel)
                 for i, amount in enumerate(("100.00", "50.00"))]
    channel_notification_accept(channel=channel, amount="100.00", transaction_id="T-0",
                                payment_code=announced[0].payment_code)
    day = business_date_for().isoformat()
    reference = f"SET-{n}"
    _import(merchant, (reference, day, "150.00", "RPay Co", SETTLEMENT_ACCOUNT, "ICBC", "settlement", ""))
    channel_notification_accept(channel=channel, amount="50.00", transaction_id="T-1",
                                payment_code=announced[1].payment_code)
    line = StatementLine.objects.get(merchant=merchant, bank_reference=reference)
    return dict(line=line, actor=f.ops(), reason="The late notification arrived")


@scenario(orders.order_file_create, leaves=AUDIT)
def the_platform_sends_its_order_file():
    return dict(merchant=f.active_merchant(), actor=None, business_date=DAY,
                orders=[{"order_no": "O-1", "type": "deposit", "amount": "10.00", "payee_user_id": "u-1"}])


@scenario(orders.order_file_from_csv, leaves=AUDIT)
def operations_upload_the_platform_s_order_file():
    return dict(merchant=f.active_merchant(), actor=f.ops(), business_date=DAY,
                data=b"order_no,type,amount\r\nO-1,deposit,10.00\r\n", file_name="orders.csv")


@scenario(eod.eod_run, leaves=AUDIT)
def the_end_of_day_of_a_merchant_without_an_order_file():
    return dict(merchant=f.active_merchant(), business_date=business_date_for(), actor=None)


@scenario(cases.cases_sync, leaves=AUDIT)
def a_rerun_finds_the_differences_gone():
    merchant = f.active_merchant()
    run = eod.eod_run(merchant=merchant, business_date=business_date_for(), actor=None)
    run.difference_rows.all().delete()  # as a rerun clears them before looking again
    return dict(run=run, actor=None)


@scenario(cases.case_investigate, leaves=AUDIT)
def operations_investigate_a_case():
    return dict(case=_case(), actor=f.ops(), reason="Asked the platform")


@scenario(cases.case_resolve, leaves=AUDIT)
def operations_resolve_a_case():
    return dict(case=_case(), actor=f.ops(), reason="The platform sent the file late")


@scenario(cases.case_write_off, leaves=AUDIT)
def operations_write_off_a_case():
    return dict(case=_case(), actor=f.ops(), reason="Test merchant, no platform yet")


@scenario(layouts.statement_layout_save, leaves=AUDIT)
def operations_add_a_bank_s_layout():
    n = next(_seq)
    return dict(layout=StatementLayout(code=f"trace-bank-{n}", name=f"Trace Bank {n}"), actor=f.ops())


@refusal(orders.order_file_create, error=ValidationFailed)
def an_order_file_with_an_unreadable_amount():
    return dict(merchant=f.active_merchant(), actor=None, business_date=DAY,
                orders=[{"order_no": "O-1", "type": "deposit", "amount": "ten"}])


@refusal(exception_queue.statement_line_ignore, error=InvalidState)
def ignoring_money_in():
    return dict(line=_line(f.active_merchant(), "80.00"), actor=f.ops(), reason="Not ours")

