"""verify_integrity finds a row altered behind the application's back."""
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ledger.services import deposits
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _books():
    merchant = f.active_merchant()
    d = deposits.deposit_announce(merchant=merchant, actor=None, member=f.member(merchant), amount="100.00",
                                  order_no="O1", method="offline_transfer")
    d = deposits.deposit_credit(deposit=d, actor=None, amount="100.00", proof_kind="statement_line",
                                proof_reference="R1")
    return merchant, d


def _behind_the_back(sql, params=()):
    # The append-only triggers refuse this; a superuser with the triggers disabled is the attacker here.
    with connection.cursor() as cursor:
        # The test runs in one transaction: run the deferred checks of the honest writes first,
        # as their commit would have.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = DEFAULT")


def test_intact_books_verify(capsys):
    merchant, _ = _books()
    call_command("verify_integrity")
    call_command("verify_integrity", merchant=merchant.code)
    assert "verified" in capsys.readouterr().out


def test_an_altered_audit_record_is_caught():
    _books()
    _behind_the_back("UPDATE core_auditevent SET reason = 'nothing to see' WHERE id = (SELECT MIN(id) FROM core_auditevent)")
    with pytest.raises(CommandError, match="audit chain"):
        call_command("verify_integrity")


def test_a_removed_audit_record_is_caught():
    _books()
    _behind_the_back("DELETE FROM core_auditevent WHERE id = (SELECT MIN(id) + 1 FROM core_auditevent)")
    with pytest.raises(CommandError, match="audit chain"):
        call_command("verify_integrity")


def test_an_altered_posting_is_caught():
    merchant, d = _books()
    _behind_the_back("UPDATE ledger_posting SET amount = amount * 2 WHERE id = (SELECT MIN(id) FROM ledger_posting WHERE entry_id = %s)",
                     [d.entry_id])
    with pytest.raises(CommandError, match="entry balance"):
        call_command("verify_integrity", merchant=merchant.code)


def test_an_altered_balance_is_caught():
    merchant, d = _books()
    _behind_the_back("UPDATE ledger_account SET balance = balance + 1 WHERE merchant_id = %s AND kind = 'member_available' "
                     "AND balance > 0", [merchant.pk])
    with pytest.raises(CommandError, match="materialised balance"):
        call_command("verify_integrity", merchant=merchant.code)
