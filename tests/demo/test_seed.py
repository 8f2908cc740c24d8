"""The quick start's demo data (`manage.py seed_demo`, run by bin/run): every merchant active with
its books proven, corporate cards verified by a real micro-deposit that left the books, and a
second run adds nothing."""
import pytest

from ledger.models import EntryType, JournalEntry
from ledger.selectors import prove_merchant
from merchants.models import BankCard, Merchant
from payouts.models import PayoutBatch

pytestmark = pytest.mark.django_db


def test_the_demo_loads_with_proven_books_and_loads_again_without_change(settings):
    from demo.seed import MERCHANTS, seed

    # when the demo data is loaded
    first = seed()
    # then every merchant is active and its books balance (总分平衡)
    merchants = Merchant.objects.filter(code__in=[m["code"] for m in MERCHANTS])
    assert [m.status for m in merchants] == ["active"] * len(MERCHANTS)
    assert all(prove_merchant(m).ok for m in merchants)
    # and every corporate card was verified by a micro-deposit the platform paid, sent in a
    # payout batch made by one operations user and released by another
    corporate = BankCard.objects.filter(micro_deposit_amount__isnull=False)
    assert corporate.exists() and all(card.verified for card in corporate)
    assert JournalEntry.objects.filter(entry_type=EntryType.MICRO_DEPOSIT).count() == corporate.count()
    batches = PayoutBatch.objects.all()
    assert batches and all(b.status == "settled" and b.created_by_id != b.approved_by_id for b in batches)
    # and a second run changes nothing
    entries = JournalEntry.objects.count()
    second = seed()
    assert JournalEntry.objects.count() == entries and PayoutBatch.objects.count() == batches.count()
    assert [m["app_id"] for m in second["merchants"]] == [m["app_id"] for m in first["merchants"]]
