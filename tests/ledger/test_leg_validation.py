"""One leg validation (ledger.posting.validated_legs) for both posting paths: an entry books only
balanced, non-empty legs of its own merchant, whether it goes through post_entry one by one or
through post_credits_bulk set-based; a refused entry books nothing."""
from decimal import Decimal

import pytest
from django.db import transaction

from ledger.models import AccountKind, EntryType, JournalEntry, Posting
from ledger.posting import Leg, UnbalancedEntry, post_entry
from ledger.posting_bulk import BulkEntry, post_credits_bulk
from ledger.services.accounts import member_accounts, platform_account
from tests import factories as f

pytestmark = pytest.mark.django_db


def _single(merchant, legs):
    with transaction.atomic():
        return post_entry(merchant=merchant, entry_type=EntryType.DEPOSIT, idempotency_ref="one", actor=None,
                          legs=legs)


def _bulk(merchant, legs):
    with transaction.atomic():
        return post_credits_bulk(merchant=merchant, entry_type=EntryType.DEPOSIT, actor=None,
                                 entries=[BulkEntry(idempotency_ref="one", legs=tuple(legs))])


@pytest.fixture
def books():
    merchant, other = f.active_merchant(), f.active_merchant()
    supervision = platform_account(merchant, AccountKind.SUPERVISION)
    available, _frozen = member_accounts(f.member(merchant))
    foreign, _ = member_accounts(f.member(other))
    return merchant, supervision, available, foreign


CASES = {
    "unbalanced": (lambda s, a, x: [Leg(s, Decimal("10")), Leg(a, Decimal("9"))], "must balance"),
    "another merchant's account": (lambda s, a, x: [Leg(s, Decimal("10")), Leg(x, Decimal("10"))],
                                   "entry's merchant"),
    "no leg that moves money": (lambda s, a, x: [Leg(s, Decimal("0")), Leg(a, Decimal("0"))], None),
}


@pytest.mark.parametrize("path", [_single, _bulk], ids=["post_entry", "post_credits_bulk"])
@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_both_posting_paths_refuse_the_same_legs_and_book_nothing(books, path, case):
    merchant, supervision, available, foreign = books
    build, message = CASES[case]
    # when an entry with such legs is posted through either path
    with pytest.raises(UnbalancedEntry) as refused:
        path(merchant, build(supervision, available, foreign))
    # then it is refused with the same reason, and nothing is booked
    if message:
        assert message in str(refused.value.message)
    assert not JournalEntry.objects.filter(merchant=merchant).exists() and not Posting.objects.exists()


@pytest.mark.parametrize("path", [_single, _bulk], ids=["post_entry", "post_credits_bulk"])
def test_both_paths_book_balanced_legs(books, path):
    merchant, supervision, available, _ = books
    path(merchant, [Leg(supervision, Decimal("10.00")), Leg(available, Decimal("10.00"))])
    assert JournalEntry.objects.filter(merchant=merchant, idempotency_ref="one").count() == 1
    assert Posting.objects.filter(merchant=merchant).count() == 2


def test_the_bulk_path_takes_only_money_in(books):
    merchant, supervision, available, _ = books
    with pytest.raises(UnbalancedEntry, match="raise natural balances"):
        _bulk(merchant, [Leg(supervision, Decimal("-10")), Leg(available, Decimal("-10"))])
    assert not JournalEntry.objects.filter(merchant=merchant).exists()
