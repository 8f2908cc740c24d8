"""`make restore-check`: restore a dump into a fresh cluster and prove the copy (see
backup/__init__.py)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.cluster import DURABLE_SETTINGS, ClusterError, pg_bindir, start_cluster

from .dump import ROOT, BackupError, backup_dir, client_binary, conninfo
from .fingerprint import differences, fingerprint


def newest_dump(folder: Path) -> Path:
    dumps = sorted(folder.glob("jianguan-*.dump"))
    if not dumps:
        raise BackupError(f"no dump in {folder}: `make backup` first")
    return dumps[-1]


def restore_check(*, path: str | None = None, out: str | None = None, keep: bool = False, jobs: int = 2,
                  log=print) -> dict:
    dump_path = Path(path).resolve() if path else newest_dump(backup_dir(out))
    manifest_path = dump_path.with_suffix(".json")
    if not manifest_path.exists():
        raise BackupError(f"{manifest_path.name} is missing: the dump cannot be compared with its source")
    manifest = json.loads(manifest_path.read_text())
    bindir = pg_bindir()
    if bindir is None:
        raise BackupError("PostgreSQL server binaries not found: install them with 'apt-get install postgresql'")
    # Under /tmp: when we run as root, the cluster belongs to the postgres system user, who
    # must reach the folder.
    folder = tempfile.mkdtemp(prefix="jianguan-restore-")
    os.chmod(folder, 0o711)
    cluster = None
    result = {"dump": str(dump_path), "bytes": dump_path.stat().st_size, "source_created_utc": manifest["created_utc"],
              "postings": int(manifest["fingerprint"]["postings"][0])}
    try:
        t0 = time.monotonic()
        try:
            cluster = start_cluster(folder, bindir, DURABLE_SETTINGS, os.path.join(folder, "server.log"))
        except ClusterError as error:
            raise BackupError(str(error)) from None
        result["cluster_start_seconds"] = round(time.monotonic() - t0, 1)
        url = f"postgres://jianguan@127.0.0.1:{cluster.port}/jianguan"
        run([client_binary("createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "jianguan", "jianguan"],
            "createdb")
        log(f"restore-check: fresh cluster on 127.0.0.1:{cluster.port}; restoring {dump_path.name} "
            f"({result['bytes'] / 1e6:.1f} MB)")
        t = time.monotonic()
        run([client_binary("pg_restore"), "--exit-on-error", "--no-owner", "--no-privileges", f"--jobs={jobs}",
             "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "jianguan", "-d", "jianguan", str(dump_path)],
            "pg_restore")
        result["restore_seconds"] = round(time.monotonic() - t, 1)
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            conn.execute("ANALYZE")  # statistics are not in a dump; verify_integrity's plans need them
        result["restore_and_analyze_seconds"] = round(time.monotonic() - t, 1)
        log(f"restore-check: restored in {result['restore_seconds']} s; verify_integrity on the copy")

        t = time.monotonic()
        env = {**os.environ, "DATABASE_URL": url}
        done = subprocess.run([sys.executable, "manage.py", "verify_integrity"], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        result["verify_seconds"] = round(time.monotonic() - t, 1)
        result["verify_integrity_ok"] = done.returncode == 0
        # Its verdict is on stdout; stderr holds the log lines of Django's start (and, on a
        # failure, the CommandError).
        result["verify_integrity"] = (done.stdout.strip() or done.stderr.strip())[-2000:]
        if done.returncode != 0:
            result["verify_integrity"] = (done.stdout + done.stderr).strip()[-2000:]

        with psycopg.connect(conninfo(url)) as conn:
            copy = fingerprint(conn)
        result["differences"] = differences(manifest["fingerprint"], copy)
        result["identical"] = not result["differences"]
        result["audit_records"] = int(copy["audit"][0])
        result["audit_chain_head"] = copy["audit"][2]
        result["passed"] = result["verify_integrity_ok"] and result["identical"]
        if keep:
            result["kept_cluster"] = {"url": url, "data": cluster.data,
                                      "stop": " ".join(cluster.as_user + [os.path.join(bindir, "pg_ctl"), "-D",
                                                                          cluster.data, "stop"])}
        return result
    finally:
        if cluster is not None and not keep:
            cluster.stop()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def run(cmd: list[str], what: str):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{what} failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}")
    return done
