"""The throwaway PostgreSQL cluster of the production-like stack: durable (fsync,
synchronous_commit and full_page_writes on, as a bank runs it), on 127.0.0.1 only, its socket
and data under the run folder; owned by the postgres system user when we run as root (initdb
refuses root), as bin/pg-throwaway.sh does."""
import os
import shutil
import subprocess
from pathlib import Path

from .procs import ROOT, ProdError, free_port

PG_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "on",  # a bank does not turn durability off, even for a test of its own
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "max_connections": "100",
    "shared_buffers": "256MB",
}


def _as_postgres() -> list[str]:
    # initdb refuses to run as root: the cluster then belongs to the postgres system user.
    if os.geteuid() != 0:
        return []
    if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    return ["runuser", "-u", "postgres", "--"]


def _run(cmd: list[str], what: str, env=None):
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise ProdError(f"{what} failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}")
    return done


def start_postgres(run: Path, bindir: str) -> dict:
    as_user = _as_postgres()
    pg = run / "pg"
    pg.mkdir()
    if as_user:
        shutil.chown(pg, user="postgres")
    data, port = pg / "data", free_port()
    _run(as_user + [f"{bindir}/initdb", "-D", str(data), "-U", "jianguan", "-A", "trust", "-E", "UTF8",
                    "--locale=C.UTF-8"], "initdb")
    options = f"-p {port} -k {pg} " + " ".join(f"-c {k}={v}" for k, v in PG_SETTINGS.items())
    logfile = run / "log" / "postgresql.log"  # kept by `down`, like the other logs
    logfile.touch()
    if as_user:
        shutil.chown(logfile, user="postgres")
    try:
        _run(as_user + [f"{bindir}/pg_ctl", "-D", str(data), "-l", str(logfile), "-w", "-t", "60", "start",
                        "-o", options], "pg_ctl start")
    except ProdError as error:
        raise ProdError(f"{error}\n{logfile.read_text()[-3000:] if logfile.exists() else ''}") from None
    _run([f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "jianguan", "jianguan"], "createdb")
    return {"port": port, "data": str(data), "bindir": bindir, "as_user": as_user, "log": str(logfile)}


def stop_postgres(pg: dict):
    if not pg:
        return
    subprocess.run(pg["as_user"] + [f"{pg['bindir']}/pg_ctl", "-D", pg["data"], "-m", "fast", "-w", "-t", "60",
                                    "stop"], capture_output=True)
