"""The reference: pgbench's built-in TPC-B-like script on the same cluster.

Each TPC-B transaction updates an account, a teller and a branch, reads the account and
inserts a history row — five statements and one durable commit, about the least a
double-entry movement can cost. Its throughput at 8 clients is the yardstick the other figures
are divided by. pgbench runs in its own database, so its tables never mix with Jianguan's.
`run` also drives a custom script (`script=`, with `defines` as `-D` variables): the plain-SQL
ledger of bench.reference; with `latencies=True` pgbench logs every transaction (`--log`) and
the result carries each one's latency, for percentiles."""
import glob
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field

from .cluster import find_pgbench, libpq_env

_TPS = re.compile(r"^tps = ([0-9.]+) \((?:without initial connection time|excluding connections establishing)\)",
                  re.MULTILINE)
_LATENCY = re.compile(r"^latency average = ([0-9.]+) ms", re.MULTILINE)
_FAILED = re.compile(r"^number of failed transactions: ([0-9]+)", re.MULTILINE)


class PgbenchUnavailable(RuntimeError):
    pass


@dataclass
class PgbenchResult:
    clients: int
    tps: float
    latency_avg_ms: float | None
    failed: int
    seconds: float
    latencies_ms: list = field(default_factory=list)  # every transaction's, when asked for


def _binary(bindir: str | None) -> str:
    binary = find_pgbench(bindir)
    if binary is None:
        raise PgbenchUnavailable("pgbench not found (Debian: apt-get install postgresql-contrib)")
    return binary


def initialise(url: str, *, scale: int, bindir: str | None = None) -> None:
    done = subprocess.run([_binary(bindir), "-i", "-s", str(scale), "-q"], env={**os.environ, **libpq_env(url)},
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise PgbenchUnavailable(f"pgbench -i failed: {done.stderr[-2000:]}")


def run(url: str, *, clients: int, seconds: int, bindir: str | None = None, script: str | None = None,
        defines: dict | None = None, latencies: bool = False) -> PgbenchResult:
    """`pgbench -c C -j min(C, 2) -T secs -n`: TPC-B (or `script`, a file) for a fixed time, no
    vacuum first."""
    cmd = [_binary(bindir), "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(seconds), "-n"]
    if script:
        cmd += ["-f", script]
    for name, value in (defines or {}).items():
        cmd += ["-D", f"{name}={value}"]
    with tempfile.TemporaryDirectory(prefix="jianguan-pgbench-") as logs:
        if latencies:
            cmd += ["--log", f"--log-prefix={os.path.join(logs, 'tx')}"]
        done = subprocess.run(cmd, env={**os.environ, **libpq_env(url)}, capture_output=True, text=True, cwd=logs)
        if done.returncode != 0:
            raise PgbenchUnavailable(f"{' '.join(cmd)} failed: {(done.stderr or done.stdout)[-2000:]}")
        logged = _logged_latencies(logs) if latencies else []
    tps = _TPS.search(done.stdout)
    if tps is None:
        raise PgbenchUnavailable(f"could not read pgbench's output:\n{done.stdout[-2000:]}")
    latency = _LATENCY.search(done.stdout)
    failed = _FAILED.search(done.stdout)
    return PgbenchResult(clients=clients, tps=float(tps.group(1)),
                         latency_avg_ms=float(latency.group(1)) if latency else None,
                         failed=int(failed.group(1)) if failed else 0, seconds=seconds, latencies_ms=logged)


def _logged_latencies(folder: str) -> list[float]:
    """Each line of pgbench's per-transaction logs (one file per thread) reads `client_id
    transaction_no time script_no time_epoch time_us ...`, `time` in microseconds (or `failed`
    / `skipped`, which carry no latency)."""
    out = []
    for path in glob.glob(os.path.join(folder, "tx.*")):
        with open(path, encoding="ascii", errors="replace") as fh:
            for line in fh:
                fields = line.split()
                if len(fields) >= 3 and fields[2].isdigit():
                    out.append(int(fields[2]) / 1000)
    return out
