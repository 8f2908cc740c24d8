"""Start and stop the production-like stack of `make prod-up` / `make prod-down`.

Everything listens on 127.0.0.1 only, on free ports, and lives under the run folder (`.prod/`
beside the project unless JIANGUAN_RUN_DIR says otherwise):

    .prod/env          the environment of the stack (shell `export` lines, mode 0600: secrets)
    .prod/state.json   ports, pids and the command line of every service
    .prod/seed.json    the soak merchant's and channel's credentials (mode 0600)
    .prod/pg/          the PostgreSQL cluster (durable: fsync, synchronous_commit, full_page_writes on)
    .prod/redis/       redis-server's folder (append-only file on: a broker keeps its messages)
    .prod/log/         postgresql.log, redis.log, gunicorn.log, gunicorn-access.log, worker.log, beat.log
                       (kept by `make prod-down`; the data, env and seed go)

Each service runs in its own session (process group), so stopping or killing it takes its
children too (gunicorn's and Celery's worker processes). The settings are production's
(config.settings.base, DEBUG off) with one loopback-only switch: DJANGO_SECURE_SSL_REDIRECT=false,
because there is no TLS on 127.0.0.1 (secure cookies and HSTS stay as in production)."""
import json
import os
import shlex
import shutil
import sys
import time
from pathlib import Path

from bench.cluster import free_port

from .pg import _run, start_postgres, stop_postgres
from .procs import (
    ProdError,
    alive,
    children,
    load_state,
    log,
    run_dir,
    save_state,
    spawn,
    stack_env,
    start_worker,
    stop_service,
    wait_http,
    wait_redis,
    write_private,
)

SERVICES = ("redis", "gunicorn", "worker", "beat")  # started in this order, stopped in reverse
__all__ = ["ProdError", "up", "down", "is_up"]


# --- up / down ---------------------------------------------------------------------------------

def is_up(state: dict | None) -> bool:
    if not state:
        return False
    pids = [s.get("pid") for s in state.get("services", {}).values()]
    pg_pid = None
    pidfile = Path(state.get("postgres", {}).get("data", "/nonexistent")) / "postmaster.pid"
    if pidfile.exists():
        try:
            pg_pid = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pg_pid = None
    return any(alive(p) for p in pids + [pg_pid])


def up(*, clients: int = 32, web_port: int | None = None, workers: int | None = None):
    run = run_dir()
    if is_up(load_state(run)):
        raise ProdError(f"the stack in {run} is already running: `make prod-down` first")
    bindir = os.environ.get("PG_BINDIR")
    if not bindir:
        raise ProdError("PostgreSQL server binaries not found: install them with 'apt-get install postgresql'")
    redis_server = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server")
                                                    else None)
    if not redis_server:
        raise ProdError("redis-server not found: install it with 'apt-get install redis-server'")
    if run.exists():
        shutil.rmtree(run)
    run.mkdir(parents=True)
    run.chmod(0o711)  # the postgres system user must reach pg/ when we run as root
    (run / "log").mkdir(mode=0o711)  # postgres (as root: the postgres user) writes its log here
    (run / "redis").mkdir(mode=0o700)
    state = {"run_dir": str(run), "started": time.time(), "services": {}, "env": {}}
    save_state(state, run)
    try:
        _up(run, state, bindir, redis_server, clients, web_port, workers)
    except BaseException:
        log("start failed; stopping what was started")
        down(quiet=True, keep_run_dir=True)
        raise


def _up(run, state, bindir, redis_server, clients, web_port, workers):
    import secrets

    from cryptography.fernet import Fernet

    t0 = time.monotonic()
    state["postgres"] = start_postgres(run, bindir)
    save_state(state, run)
    log(f"PostgreSQL {Path(bindir).parent.name} on 127.0.0.1:{state['postgres']['port']} (durable: fsync on)")
    redis_port, web_port = free_port(), web_port or free_port()
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"postgres://jianguan@127.0.0.1:{state['postgres']['port']}/jianguan",
        "CACHE_URL": f"redis://127.0.0.1:{redis_port}/1",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "JIANGUAN_FIELD_KEYS": Fernet.generate_key().decode(),
        # Loopback only: no TLS on 127.0.0.1, so no redirect to https. Never in production.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        # One app id carries all 16 clients' traffic: lift the per-app throttle above it.
        "JIANGUAN_API_RATE": os.environ.get("JIANGUAN_API_RATE", "100000/min"),
        "DJANGO_LOG_LEVEL": "WARNING",
        "GUNICORN_BIND": f"127.0.0.1:{web_port}",
        "GUNICORN_ACCESS_LOG": str(run / "log" / "gunicorn-access.log"),
        "GUNICORN_ERROR_LOG": "-",
        "GUNICORN_LOG_LEVEL": "info",
    }
    if workers:
        env["GUNICORN_WORKERS"] = str(workers)
    state["env"] = env
    state["base_url"] = f"http://127.0.0.1:{web_port}"
    state["redis_port"] = redis_port
    py = sys.executable
    state["services"] = {
        "redis": {"cmd": [redis_server, "--bind", "127.0.0.1", "--port", str(redis_port), "--protected-mode", "yes",
                          "--dir", str(run / "redis"), "--daemonize", "no", "--appendonly", "yes", "--save", "",
                          "--logfile", ""]},
        "gunicorn": {"cmd": [py, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"]},
        "worker": {"cmd": [py, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "2",
                           "--hostname", "soak@%h", "--without-mingle", "--without-gossip"]},
        "beat": {"cmd": [py, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"]},
    }
    save_state(state, run)
    write_private(run / "env", "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items()))

    spawn(state, "redis")
    wait_redis(redis_port)
    log(f"redis-server on 127.0.0.1:{redis_port}")
    # Setup only: these sessions don't wait for each commit's WAL flush (hundreds of DDL commits
    # would take a minute on a real disk). A crash now loses only the setup, which is redone;
    # the services below run with the server's durable defaults.
    setup_env = {**stack_env(state), "PGOPTIONS": "-c synchronous_commit=off"}
    _run([py, "manage.py", "migrate", "--noinput"], "migrate", env=setup_env)
    log("migrations applied")
    done = _run([py, "-m", "soak", "seed", "--clients", str(clients)], "seed", env=setup_env)
    seed = json.loads(done.stdout.strip().splitlines()[-1])
    write_private(run / "seed.json", json.dumps(seed, indent=2))
    log(f"seeded merchant {seed['merchant_code']} (app id {seed['app_id']}), channel {seed['channel']['code']}, "
        f"{len(seed['credit_buyers'])} credit lines")
    pid = spawn(state, "gunicorn")
    wait_http(f"{state['base_url']}/api/v1/members/ready", 90, pid, "gunicorn")
    log(f"gunicorn on {state['base_url']} ({len(children(pid))} workers, production settings, DEBUG off)")
    start_worker(state)
    log("Celery worker ready")
    spawn(state, "beat")
    time.sleep(1)
    if not alive(state["services"]["beat"]["pid"]):
        raise ProdError(f"Celery beat exited; see {run / 'log' / 'beat.log'}")
    log("Celery beat started")
    save_state(state, run)
    log(f"up in {time.monotonic() - t0:.0f} s — run folder {run}; `make soak` drives traffic, "
        f"`make prod-down` stops it all")


def down(*, quiet: bool = False, keep_run_dir: bool = False):
    run = run_dir()
    state = load_state(run)
    if state is None:
        if not quiet:
            log(f"nothing to stop (no {run / 'state.json'})")
        return
    for name in reversed(SERVICES):
        if name in state.get("services", {}):
            stop_service(state, name)
    stop_postgres(state.get("postgres"))
    if is_up(state):
        raise ProdError(f"some processes of {run} are still running: {state}")
    # Secrets and data go; the logs stay for a look afterwards.
    for name in ("pg", "redis"):
        shutil.rmtree(run / name, ignore_errors=True)
    if not keep_run_dir:
        for name in ("env", "seed.json", "state.json"):
            (run / name).unlink(missing_ok=True)
    if not quiet:
        log(f"stopped; logs kept in {run / 'log'}")
