"""The production-like run, in CI's short mode: bin/prod-up starts PostgreSQL, redis-server,
gunicorn (production settings), a Celery worker and beat on 127.0.0.1; bin/soak drives 16 signed
clients for ~25 s, SIGKILLs one gunicorn worker and the Celery worker midway, then shuts PostgreSQL
down with `pg_ctl stop -m immediate` and starts it again, then checks the clients'
record against the database, verify_integrity and end of day; bin/prod-down stops it.

Skipped when redis-server or the PostgreSQL server binaries are missing — except in CI
(CI=true), where that is a failure: .ci/run installs both. Deselect locally with -m "not soak"."""
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from bench.cluster import pg_bindir

ROOT = Path(__file__).resolve().parents[2]
SOAK_SECONDS = 25

pytestmark = pytest.mark.soak


def _missing_tools() -> list[str]:
    missing = []
    if not (shutil.which("redis-server") or os.access("/usr/bin/redis-server", os.X_OK)):
        missing.append("redis-server ('apt-get install redis-server')")
    if pg_bindir() is None:
        missing.append("the PostgreSQL server binaries ('apt-get install postgresql')")
    return missing


def _tail(run_dir: Path) -> str:
    parts = []
    for log in sorted((run_dir / "log").glob("*.log")):
        if log.name == "gunicorn-access.log":
            continue
        text = log.read_text(errors="replace")
        parts.append(f"--- {log.name} (end)\n{text[-1500:]}")
    return "\n".join(parts)


def test_a_short_soak_with_kills_and_a_database_crash_loses_nothing_and_books_nothing_twice():
    missing = _missing_tools()
    if missing:
        message = "the soak needs " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the soak, but {message}")
        pytest.skip(message)
    # A folder of its own (never a developer's .prod/), under /tmp: when the tests run as root,
    # the postgres system user owning the cluster must be able to reach it.
    run_dir = Path(tempfile.mkdtemp(prefix="jianguan-soak-"))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "JIANGUAN_", "CELERY_", "DATABASE_URL", "CACHE_URL"))}
    env["JIANGUAN_RUN_DIR"] = str(run_dir)
    result_path = run_dir.parent / f"{run_dir.name}.json"
    try:
        # given the production-like stack
        up = subprocess.run([str(ROOT / "bin" / "prod-up"), "--clients", "16"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=900)
        assert up.returncode == 0, f"prod-up failed:\n{up.stdout}\n{up.stderr}\n{_tail(run_dir)}"

        # when 16 clients drive it for a short while, with a gunicorn worker and the Celery worker killed,
        # and PostgreSQL shut down immediately (no checkpoint) and started again
        soak = subprocess.run([str(ROOT / "bin" / "soak"), "--duration", str(SOAK_SECONDS), "--json",
                               str(result_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        report = f"{soak.stdout}\n{soak.stderr}"
        assert result_path.exists(), f"the soak wrote no result:\n{report}\n{_tail(run_dir)}"
        result = json.loads(result_path.read_text())

        # then every request was answered or retried to an answer, and nothing was lost or doubled
        assert result["requests"] > 0, report
        assert [e["what"] for e in result["kills"]] == ["gunicorn worker SIGKILL", "celery worker SIGKILL + restart",
                                                        "postgresql immediate shutdown + restart"], report
        # while the database was down the answers were 503 database_unavailable with Retry-After, never a
        # 500, and the clients were served again after the restart
        assert result["five_xx"] == 0, report
        assert result["unavailable_503_without_retry_after"] == 0, report
        assert result["database_downtime_seen_by_clients_s"] is not None, report
        assert result["beat_alive_after"] is True, report
        assert result["lost"] == 0, report
        assert result["double"] == 0, report
        assert result["unrecorded"] == 0 and result["mismatched"] == 0, report
        assert result["integrity_ok"], report
        assert result["eod_ok"], report
        assert not result["client_failures"] and not result["stuck_clients"], report
        assert result["passed"] and soak.returncode == 0, report
    finally:
        subprocess.run([str(ROOT / "bin" / "prod-down")], cwd=ROOT, env=env, capture_output=True, timeout=180)
        shutil.rmtree(run_dir, ignore_errors=True)
        result_path.unlink(missing_ok=True)
