"""The benchmark database's schema: `migrate`, with a cache.

Migrating an empty database takes most of a quick run's two minutes on a small machine (the
migration framework renders model states in Python for every step). The result is always the
same for the same migrations, so after migrating, the schema (and the rows migrations insert:
groups, permissions, content types) is dumped with pg_dump into a cache keyed by a hash of
every migration, every SQL file the migrations load, the pinned dependencies and the server's
version. The next run restores that dump (well under a second) and then runs `migrate`
anyway: with nothing left to apply it only checks, and if the cache were somehow behind, it
would apply what is missing."""
import hashlib
import os
import subprocess
from pathlib import Path

from .cluster import find_pgbench, libpq_env

CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jianguan-bench"


def _project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def schema_key(server_version: str) -> str:
    root = _project_root()
    digest = hashlib.sha256(server_version.encode())
    files = [p for pattern in ("*/migrations/*.py", "*/sql/*", "pyproject.toml") for p in root.glob(pattern)]
    for path in sorted(p for p in files if p.is_file() and ".venv" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _client(name: str) -> str | None:
    pgbench = find_pgbench(os.environ.get("JIANGUAN_BENCH_PGBIN") or None)
    for d in [os.environ.get("JIANGUAN_BENCH_PGBIN"), os.path.dirname(pgbench) if pgbench else None]:
        if d and os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    return None


def migrate(log=print):
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        version = cursor.fetchone()[0]
    cache = CACHE_DIR / f"schema-{schema_key(version)}.dump"
    env = {**os.environ, **libpq_env(_url(connection.settings_dict))}
    pg_dump, pg_restore = _client("pg_dump"), _client("pg_restore")
    restored = False
    if cache.exists() and pg_restore:
        connection.close()  # pg_restore works in its own session
        done = subprocess.run([pg_restore, "--no-owner", "--no-privileges", "--single-transaction", "-d",
                               env["PGDATABASE"], str(cache)], env=env, capture_output=True, text=True)
        restored = done.returncode == 0
        log(f"bench: schema restored from {cache} (migrations unchanged)" if restored else
            f"bench: could not restore the cached schema, migrating instead: {done.stderr.strip()[-300:]}")
    if not restored:
        log("bench: migrating the benchmark database (the schema is cached for the next run)")
    call_command("migrate", verbosity=0, interactive=False)
    if not restored and pg_dump:
        connection.close()
        try:
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            partial = cache.with_suffix(".partial")
            done = subprocess.run([pg_dump, "-Fc", "-f", str(partial), env["PGDATABASE"]], env=env,
                                  capture_output=True, text=True)
            if done.returncode == 0:
                partial.replace(cache)
            else:
                partial.unlink(missing_ok=True)
        except OSError as error:
            log(f"bench: schema not cached ({error})")


def _url(settings: dict) -> str:
    from .runner import database_url

    return database_url(settings)
