"""Where the benchmark runs: a throwaway PostgreSQL cluster, or fresh databases on a server.

Without a PostgreSQL DATABASE_URL, a cluster is initialised in a temporary folder from the
machine's server binaries (the approach of bin/pg-throwaway.sh: as the `postgres` system user
when running as root, a random port on 127.0.0.1) and removed afterwards. Unlike the test
cluster it stays durable — a bank does not turn fsync off — so every commit waits for its WAL
to reach the disk (`DURABLE_SETTINGS`).

With a PostgreSQL DATABASE_URL, the benchmark never touches that database: it creates two
fresh ones beside it on the same server (one for Jianguan, one for pgbench's tables) and drops
them afterwards. The role needs CREATEDB."""
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

# The settings of the throwaway cluster. Durability stays on; the rest is what a small
# production server would get: buffers that hold the working set, checkpoints spaced out so a
# bulk load does not force one every few seconds, room for 8 workers + 5 gunicorn workers.
DURABLE_SETTINGS = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "512MB",
    "max_connections": "200",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "listen_addresses": "127.0.0.1",
}
# What the report shows of the server's configuration, whoever started it.
REPORTED_SETTINGS = ("server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_sync_method",
                     "shared_buffers", "max_wal_size", "checkpoint_timeout", "max_connections")


class ClusterError(RuntimeError):
    pass


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in ("postgres", "postgresql", "pgsql", "postgis")


def pg_bindir() -> str | None:
    """The newest server binaries: $PG_BINDIR, Debian's /usr/lib/postgresql/*/bin, or PATH."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for d in candidates:
        if d and os.access(os.path.join(d, "initdb"), os.X_OK) and os.access(os.path.join(d, "pg_ctl"), os.X_OK):
            return d
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def find_pgbench(bindir: str | None = None) -> str | None:
    """pgbench next to initdb (Debian ships it in postgresql-contrib), else on PATH."""
    for d in [bindir, pg_bindir(), *sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)]:
        if d and os.access(os.path.join(d, "pgbench"), os.X_OK):
            return os.path.join(d, "pgbench")
    return shutil.which("pgbench")


def _version_key(path: str):
    part = path.rstrip("/").split("/")[-2]
    return tuple(int(x) for x in part.split(".") if x.isdigit())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def libpq_env(url: str) -> dict[str, str]:
    """PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE for pgbench, from a database URL."""
    parts = urlsplit(url)
    env = {"PGHOST": parts.hostname or "127.0.0.1", "PGPORT": str(parts.port or 5432),
           "PGDATABASE": unquote(parts.path.lstrip("/")) or "postgres"}
    if parts.username:
        env["PGUSER"] = unquote(parts.username)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return env


@dataclass
class Databases:
    """The two databases of one run: Jianguan's and pgbench's, and how to remove them."""

    app_url: str
    pgbench_url: str
    bindir: str | None = None
    started_cluster: bool = False
    settings: dict = field(default_factory=dict)
    _cleanup: list = field(default_factory=list)

    def close(self):
        while self._cleanup:
            fn = self._cleanup.pop()
            try:
                fn()
            except Exception as error:  # noqa: BLE001 - cleanup goes on; the run's result is what matters
                print(f"bench: cleanup step failed: {error}")


@dataclass
class Cluster:
    """A PostgreSQL cluster started by start_cluster (its fields are plain, so it can be saved
    as JSON by whoever must stop it later)."""

    bindir: str
    data: str
    port: int
    log: str
    as_user: list[str] = field(default_factory=list)
    options: str = ""  # the server's command-line options (port, socket folder, settings)

    def stop(self):
        subprocess.run(self.as_user + [os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "fast", "-w",
                                       "-t", "60", "stop"], capture_output=True)

    def crash(self):
        """`pg_ctl stop -m immediate`: every backend is killed without a checkpoint, as a power
        cut would; the next start runs crash recovery from the WAL."""
        _run(self.as_user + [os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w",
                             "-t", "60", "stop"], "pg_ctl stop -m immediate")

    def start(self):
        """Start it again with the options it was first started with; returns once it accepts
        connections (crash recovery done)."""
        _run(self.as_user + [os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t",
                             "120", "start", "-o", self.options], "pg_ctl start", log_file=self.log)


def start_cluster(folder: str, bindir: str, settings: dict, log_file: str) -> Cluster:
    """initdb and start a cluster in `folder`/data on a free port of 127.0.0.1, its socket in
    `folder`, superuser `jianguan` (trust: only loopback). initdb refuses to run as root, so
    then the cluster belongs to the postgres system user (created if missing)."""
    as_user: list[str] = []
    if os.geteuid() == 0:
        if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
        as_user = ["runuser", "-u", "postgres", "--"]
    open(log_file, "a").close()
    if as_user:
        shutil.chown(folder, user="postgres")
        shutil.chown(log_file, user="postgres")
    data = os.path.join(folder, "data")
    _run(as_user + [os.path.join(bindir, "initdb"), "-D", data, "-U", "jianguan", "-A", "trust", "-E", "UTF8",
                    "--locale=C.UTF-8"], "initdb")
    port = free_port()
    options = f"-p {port} -k {folder} " + " ".join(f"-c {k}={v}" for k, v in settings.items())
    _run(as_user + [os.path.join(bindir, "pg_ctl"), "-D", data, "-l", log_file, "-w", "-t", "60", "start",
                    "-o", options], "pg_ctl start", log_file=log_file)
    return Cluster(bindir=bindir, data=data, port=port, log=log_file, as_user=as_user, options=options)


def throwaway_cluster(log=print) -> Databases:
    bindir = pg_bindir()
    if bindir is None:
        raise ClusterError("PostgreSQL server binaries not found: install them with "
                           "'apt-get install postgresql postgresql-contrib', or set DATABASE_URL to a PostgreSQL server.")
    tmp = tempfile.mkdtemp(prefix="jianguan-bench-")
    dbs = Databases(app_url="", pgbench_url="", bindir=bindir, started_cluster=True, settings=dict(DURABLE_SETTINGS))
    dbs._cleanup.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    cluster = start_cluster(tmp, bindir, DURABLE_SETTINGS, os.path.join(tmp, "server.log"))
    dbs._cleanup.append(cluster.stop)
    port = cluster.port
    base = f"postgres://jianguan@127.0.0.1:{port}/postgres"
    for name in ("jianguan", "pgbench"):
        _create_database(base, name)
    dbs.app_url, dbs.pgbench_url = with_database(base, "jianguan"), with_database(base, "pgbench")
    log(f"bench: throwaway PostgreSQL cluster on 127.0.0.1:{port} ({bindir}), durable: "
        + ", ".join(f"{k}={v}" for k, v in DURABLE_SETTINGS.items() if k != "listen_addresses"))
    return dbs


def fresh_databases(url: str, log=print) -> Databases:
    """Two new databases beside the one DATABASE_URL names (which is left alone)."""
    tag = secrets.token_hex(4)
    app, pgb = f"jianguan_bench_{tag}", f"jianguan_bench_{tag}_pgbench"
    dbs = Databases(app_url=with_database(url, app), pgbench_url=with_database(url, pgb), bindir=pg_bindir())
    for name in (app, pgb):
        _create_database(url, name)
        dbs._cleanup.append(lambda name=name: _drop_database(url, name))
    parts = urlsplit(url)
    log(f"bench: using the PostgreSQL server at {parts.hostname}:{parts.port or 5432}, "
        f"in fresh databases {app} and {pgb} (dropped afterwards)")
    return dbs


def _create_database(url: str, name: str):
    import psycopg

    try:
        with psycopg.connect(_conninfo(url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        raise ClusterError(f"could not create database {name}: {error}".strip()) from None


def _drop_database(url: str, name: str):
    import psycopg

    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _conninfo(url: str) -> str:
    env = libpq_env(url)
    keys = {"PGHOST": "host", "PGPORT": "port", "PGUSER": "user", "PGPASSWORD": "password", "PGDATABASE": "dbname"}
    return " ".join(f"{keys[k]}='{v}'" for k, v in env.items())


def _run(cmd: list[str], what: str, log_file: str | None = None):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        detail = done.stderr or done.stdout
        if log_file and os.path.exists(log_file):
            with open(log_file, encoding="utf-8", errors="replace") as fh:
                detail += fh.read()[-4000:]
        raise ClusterError(f"{what} failed:\n{detail}")
