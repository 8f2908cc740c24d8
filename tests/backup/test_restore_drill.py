"""The backup and restore drill: `make backup` dumps the database with the fingerprint
of its books taken in the dump's own snapshot; `make restore-check` restores the dump into a
fresh PostgreSQL cluster, runs verify_integrity on the copy and finds the audit chain, the
balances and the postings identical to the source's — and says so when they are not.

Real processes and a real second cluster: the same commands an operator runs (python -m backup,
which bin/backup and bin/restore-check call). Skipped without PostgreSQL's server binaries,
except in CI."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from bench.cluster import pg_bindir
from bench.runner import database_url
from ledger.services import deposits
from ledger.services.payments import payment_create
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server_binaries():
    if pg_bindir() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the restore drill, but the PostgreSQL server binaries are missing")
        pytest.skip("the restore drill needs the PostgreSQL server binaries ('apt-get install postgresql')")
    if connection.vendor != "postgresql":
        pytest.skip("the restore drill backs up a PostgreSQL database")


def _books():
    merchant = f.active_merchant()
    buyer, seller = f.member(merchant, roles=("buyer",)), f.member(merchant, roles=("seller",))
    d = deposits.deposit_announce(merchant=merchant, actor=None, member=buyer, amount="500.00", order_no="D-1",
                                  method="offline_transfer")
    deposits.deposit_credit(deposit=d, actor=None, amount="500.00", proof_kind="statement_line",
                            proof_reference="R-1")
    payment_create(merchant=merchant, actor=None, payer=buyer, amount="120.00", order_no="P-1", mode="direct",
                   splits=[(seller, "118.80")], platform_fee="1.20", description="drill")
    return merchant


def _backup(*args, folder: Path):
    env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict)}
    return subprocess.run([sys.executable, "-m", "backup", *args, "--out", str(folder)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_a_backup_restores_into_a_fresh_cluster_identical_and_verified(server_binaries, tmp_path):
    # given books with a deposit, a payment and their audit trail
    _books()
    # when the operator backs up, then checks the restore
    dumped = _backup("dump", "--json", str(tmp_path / "manifest.json"), folder=tmp_path)
    assert dumped.returncode == 0, dumped.stdout + dumped.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert (tmp_path / manifest["dump"]).stat().st_size == manifest["bytes"] > 0
    checked = _backup("restore-check", "--json", str(tmp_path / "check.json"), folder=tmp_path)
    report = checked.stdout + checked.stderr
    # then the copy verifies, and its audit chain, balances and postings are the source's
    assert checked.returncode == 0, report
    result = json.loads((tmp_path / "check.json").read_text())
    assert result["verify_integrity_ok"] and result["identical"] and result["passed"], report
    assert result["differences"] == []
    assert result["audit_records"] == int(manifest["fingerprint"]["audit"][0]) > 0
    assert result["audit_chain_head"] == manifest["fingerprint"]["audit"][2]
    assert result["postings"] == int(manifest["fingerprint"]["postings"][0]) > 0
    assert "RESULT              PASS" in checked.stdout


def test_a_copy_that_differs_from_its_source_fails_the_check(server_binaries, tmp_path):
    # given a dump whose manifest says the source held other balances than the dump does
    merchant = _books()
    assert _backup("dump", folder=tmp_path).returncode == 0
    manifest_path = next(tmp_path.glob("jianguan-*.json"))
    manifest = json.loads(manifest_path.read_text())
    manifest["fingerprint"]["accounts"][1] = "0" * 32
    manifest["fingerprint"]["supervision_balances"][merchant.code] = "999999.00"
    manifest_path.write_text(json.dumps(manifest))
    # when the restore is checked
    checked = _backup("restore-check", folder=tmp_path)
    # then it fails, naming what differs
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "identical to source NO" in checked.stdout
    assert "accounts:" in checked.stdout and "supervision_balances:" in checked.stdout
