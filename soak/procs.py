"""Processes of the production-like stack: the run folder, its state file, starting a service
in its own session (process group), stopping or killing it with its children, waiting for it."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ProdError(RuntimeError):
    pass


def run_dir() -> Path:
    return Path(os.environ.get("JIANGUAN_RUN_DIR") or ROOT / ".prod").resolve()


def log(message: str):
    print(f"prod: {message}", flush=True)


# --- state -------------------------------------------------------------------------------------

def load_state(run: Path | None = None) -> dict | None:
    path = (run or run_dir()) / "state.json"
    return json.loads(path.read_text()) if path.exists() else None


def save_state(state: dict, run: Path | None = None):
    path = (run or run_dir()) / "state.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(path)


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


# Settings of whatever started us (a test run's DATABASE_URL, a shell's DJANGO_DEBUG...) never
# leak into the stack: it runs on its own settings only.
_FOREIGN_PREFIXES = ("DJANGO_", "JIANGUAN_", "CELERY_", "GUNICORN_", "DATABASE_URL", "CACHE_URL", "PG")


def stack_env(state: dict) -> dict:
    own = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_PREFIXES)}
    return {**own, **state["env"]}


def write_private(path: Path, text: str):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


# --- services ----------------------------------------------------------------------------------

def spawn(state: dict, name: str) -> int:
    """Start one service from its command line in state, in a new session, logging to its file."""
    service = state["services"][name]
    log_path = run_dir() / "log" / f"{name}.log"
    with open(log_path, "ab") as out:
        process = subprocess.Popen(service["cmd"], cwd=ROOT, env=stack_env(state), stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    service["pid"] = process.pid
    service["started"] = time.time()
    save_state(state)
    return process.pid


def kill_group(pid: int, sig=signal.SIGKILL):
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def stop_service(state: dict, name: str, timeout: float = 20.0):
    pid = state["services"].get(name, {}).get("pid")
    if not alive(pid):
        return
    kill_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    kill_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def wait_http(url: str, timeout: float, pid: int | None = None, what: str = "server"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid is not None and not alive(pid):
            raise ProdError(f"{what} exited during start; see {run_dir() / 'log'}")
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except urllib.error.HTTPError:
            return  # any answer from Django (the API's JSON 404/401) means it is serving
        except OSError:
            time.sleep(0.3)
    raise ProdError(f"{what} did not answer within {timeout:.0f} s; see {run_dir() / 'log'}")


def wait_redis(port: int, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise ProdError(f"redis-server did not answer on 127.0.0.1:{port}; see {run_dir() / 'log' / 'redis.log'}")


def wait_log(path: Path, needle: str, offset: int, timeout: float, pid: int | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                if needle.encode() in fh.read():
                    return True
        except OSError:
            pass
        if pid is not None and not alive(pid):
            return False
        time.sleep(0.2)
    return False


def start_worker(state: dict, timeout: float = 60.0) -> int:
    """(Re)start the Celery worker and wait until it says it is ready."""
    path = run_dir() / "log" / "worker.log"
    offset = path.stat().st_size if path.exists() else 0
    pid = spawn(state, "worker")
    if not wait_log(path, " ready.", offset, timeout, pid):
        raise ProdError(f"the Celery worker did not become ready; see {path}")
    return pid
