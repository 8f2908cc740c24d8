"""The platform's own money (deposit purpose `platform`): announced by the platform over the API,
credited only on bank-side proof paid by the platform itself, into its own account (fee income) —
which pays the micro-deposits verifying its corporate members, so a new platform whose sellers are
all corporate can verify them before it has earned a fee."""
from decimal import Decimal

import pytest

from ledger.calendar import business_date_for
from ledger.models import AccountKind, Deposit, EntryType, JournalEntry
from ledger.selectors import account_balances, customer_inflows, prove_merchant
from ledger.services.accounts import platform_account
from payouts.models import PayoutLine
from payouts.services import batches
from reconciliation.services.imports import statement_import
from tests import factories as f
from tests.api.conftest import make_platform
from tests.reconciliation.builders import english

from .helpers import business_card

pytestmark = pytest.mark.django_db


def test_the_platform_funds_its_own_account_on_bank_proof_and_it_pays_the_micro_deposits():
    # given a new platform with one corporate member to verify and no fee income yet
    platform = make_platform()
    merchant = platform.merchant
    card = business_card(merchant)
    events = f.listening(merchant)
    with pytest.raises(Exception, match="Nothing is due"):
        batches.payout_batch_build(merchant=merchant, actor=f.ops())  # the micro-deposit can't be paid yet
    # when it announces 10.00 of its own money over the API
    deposit = platform.client.create_platform_deposit(amount="10.00", order_no="PLT-1")
    assert deposit["purpose"] == "platform" and deposit["user_id"] is None and deposit["status"] == "awaiting_funds"
    assert platform.client.get_deposit(deposit["id"])["purpose"] == "platform"
    assert account_balances(merchant)[AccountKind.FEE_INCOME] == 0  # announcing moves nothing
    # and the bank's statement shows it paid by the platform itself (and a look-alike paid by someone else)
    other = platform.client.create_platform_deposit(amount="5.00", order_no="PLT-2")
    day = business_date_for().isoformat()
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english([
        ("SR-1", day, "10.00", merchant.legal_name, "6222000011112222", "ICBC", f"自有资金 {deposit['payment_code']}", ""),
        ("SR-2", day, "5.00", "王某某", "6222000033334444", "ICBC", f"自有资金 {other['payment_code']}", ""),
    ]))
    # then only the platform's own payment is credited, to its own account, as a platform deposit
    assert Deposit.objects.get(pk=deposit["id"]).status == Deposit.Status.SUCCEEDED
    assert Deposit.objects.get(pk=other["id"]).status == Deposit.Status.AWAITING_FUNDS
    assert account_balances(merchant)[AccountKind.FEE_INCOME] == Decimal("10.00")
    assert platform_account(merchant, AccountKind.SUSPENSE).balance == Decimal("5.00")
    assert JournalEntry.objects.get(merchant=merchant, order_no="PLT-1").entry_type == EntryType.PLATFORM_DEPOSIT
    assert [d["amount"] for _t, d in events("platform_account.funded")] == ["10.00"]
    # and it is not a customer inflow (the reserve's percentage does not grow with it)
    assert customer_inflows(merchant, business_date_for(), business_date_for()) == Decimal("5.00")
    # and now the corporate member's micro-deposit goes out in a batch
    batch = batches.payout_batch_build(merchant=merchant, actor=f.ops())
    assert list(batch.lines.values_list("kind", "bank_card_id")) == [(PayoutLine.Kind.MICRO_DEPOSIT, card.pk)]
    assert prove_merchant(merchant).ok
