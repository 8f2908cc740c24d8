"""Two imports of the same file at the same time book it once (PostgreSQL, real transactions)."""
import threading
from decimal import Decimal

import pytest
from django.db import connection

from ledger.selectors import account_balances
from reconciliation.models import StatementLine
from reconciliation.services.imports import statement_import
from tests import factories as f

from .builders import announce, english


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_file_imported_twice_at_once_books_once():
    # given a file with a deposit and unidentified money
    merchant = f.active_merchant()
    deposit = announce(merchant, f.member(merchant), "10.00", "D-1")
    data = english([(f"R{i}", "2026-11-24", "5.00", "A", "1", "B", "x", "") for i in range(200)]
                   + [("RD", "2026-11-24", "10.00", "A", "1", "B", deposit.payment_code, "")])
    results, errors = [], []

    def run():
        try:
            results.append(statement_import(account_number=merchant.supervision_account_number, stream=data,
                                            actor=None))
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)
        finally:
            connection.close()

    # when two imports run at the same time
    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then one took the lines and the other found them all duplicates
    assert errors == []
    assert sorted((r.imported, r.duplicates) for r in results) == [(0, 201), (201, 0)]
    assert StatementLine.objects.filter(merchant=merchant).count() == 201
    assert account_balances(merchant)["supervision"] == Decimal("1010.00")
