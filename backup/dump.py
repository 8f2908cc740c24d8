"""`make backup`: one consistent pg_dump and its manifest (see backup/__init__.py)."""
import datetime
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

from bench.cluster import libpq_env, pg_bindir

from .fingerprint import fingerprint

ROOT = Path(__file__).resolve().parent.parent


class BackupError(RuntimeError):
    pass


def backup_dir(out: str | None = None) -> Path:
    return Path(out or os.environ.get("JIANGUAN_BACKUP_DIR") or ROOT / ".backups").resolve()


def client_binary(name: str) -> str:
    """pg_dump / pg_restore / createdb of the newest server binaries (a pg_dump must be at least
    as new as the server it dumps), else the one on PATH."""
    bindir = pg_bindir()
    for candidate in ([os.path.join(bindir, name)] if bindir else []) + [shutil.which(name) or ""]:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(f"{name} not found: install PostgreSQL's client programs ('apt-get install postgresql')")


def conninfo(url: str) -> str:
    keys = {"PGHOST": "host", "PGPORT": "port", "PGUSER": "user", "PGPASSWORD": "password", "PGDATABASE": "dbname"}
    return " ".join(f"{keys[k]}='{v}'" for k, v in libpq_env(url).items())


def dump(*, url: str, out: str | None = None, log=print) -> dict:
    """Dump the database at `url`; returns the manifest (also written beside the dump)."""
    folder = backup_dir(out)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"jianguan-{stamp}.dump"
    pg_dump = client_binary("pg_dump")
    env = {**os.environ, **libpq_env(url)}
    t0 = time.monotonic()
    # The fingerprint and the dump read one snapshot: the transaction that exports it stays open
    # (and idle) until pg_dump has finished.
    with psycopg.connect(conninfo(url)) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        server = conn.execute("SHOW server_version").fetchone()[0]
        t_fp = time.monotonic()
        books = fingerprint(conn)
        fingerprint_s = time.monotonic() - t_fp
        t_dump = time.monotonic()
        done = subprocess.run([pg_dump, "--format=custom", "--compress=6", f"--snapshot={snapshot}",
                               "--file", str(path)], env=env, capture_output=True, text=True)
        dump_s = time.monotonic() - t_dump
        conn.rollback()
    if done.returncode != 0:
        path.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    path.chmod(0o600)
    manifest = {
        "dump": path.name, "bytes": path.stat().st_size, "created_utc": stamp, "server_version": server,
        "pg_dump": subprocess.run([pg_dump, "--version"], capture_output=True, text=True).stdout.strip(),
        "database": libpq_env(url)["PGDATABASE"], "dump_seconds": round(dump_s, 1),
        "fingerprint_seconds": round(fingerprint_s, 1), "seconds": round(time.monotonic() - t0, 1),
        "fingerprint": books,
    }
    manifest_path = path.with_suffix(".json")
    manifest_path.write_text(json.dumps(manifest, indent=2))
    manifest_path.chmod(0o600)
    log(f"backup: {path} ({manifest['bytes'] / 1e6:.1f} MB) in {manifest['seconds']} s "
        f"(pg_dump {manifest['dump_seconds']} s); {books['postings'][0]} postings, "
        f"{books['audit'][0]} audit records, chain head {books['audit'][2][:12]}…")
    return manifest
