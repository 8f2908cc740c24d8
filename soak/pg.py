"""The throwaway PostgreSQL cluster of the production-like stack: durable (fsync,
synchronous_commit and full_page_writes on, as a bank runs it), on 127.0.0.1 only, its socket
and data under the run folder; owned by the postgres system user when we run as root (initdb
refuses root), as bin/pg-throwaway.sh does."""
import subprocess
from dataclasses import asdict
from pathlib import Path

from bench.cluster import Cluster, ClusterError, start_cluster

from .procs import ROOT, ProdError

PG_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "on",  # a bank does not turn durability off, even for a test of its own
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "max_connections": "100",
    "shared_buffers": "256MB",
}


def _run(cmd: list[str], what: str, env=None):
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise ProdError(f"{what} failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}")
    return done


def start_postgres(run: Path, bindir: str) -> dict:
    """Start the cluster under the run folder; returns what `stop_postgres` needs (saved in the
    run's state file)."""
    pg = run / "pg"
    pg.mkdir()
    # The log lives with the other logs, which `down` keeps.
    try:
        cluster = start_cluster(str(pg), bindir, PG_SETTINGS, str(run / "log" / "postgresql.log"))
    except ClusterError as error:
        raise ProdError(str(error)) from None
    _run([f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "jianguan", "jianguan"], "createdb")
    return asdict(cluster)


def stop_postgres(pg: dict):
    if pg:
        Cluster(**pg).stop()
