"""What the workers wait for during a measurement, sampled from pg_stat_activity.

Throughput alone can't tell a row lock from a busy CPU. Ten times a second, this counts the
benchmark database's client backends that are inside a statement — and among those, waiting
for a row lock (a hot account's row, held until its transaction commits) or for the WAL to
reach the disk (a durable commit) — and those idle inside a transaction, i.e. waiting for
their client (Python) to send the next statement. The averages go in the report's notes."""
import os
import threading
import time

_SAMPLE = """
SELECT count(*) FILTER (WHERE state = 'active' AND pid <> pg_backend_pid()),
       count(*) FILTER (WHERE state = 'idle in transaction'),
       count(*) FILTER (WHERE wait_event_type = 'Lock'),
       count(*) FILTER (WHERE wait_event IN ('WALWrite', 'WALSync', 'WALInsert') OR wait_event_type = 'IO'
                              AND wait_event LIKE 'WAL%')
FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'
"""
APPLICATION_NAME = "jianguan-bench-sampler"


class WaitSampler:
    def __init__(self, conninfo: str, interval: float = 0.1):
        self.conninfo, self.interval = conninfo, interval
        self.samples: list[tuple[int, int, int, int]] = []
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self):
        import psycopg

        try:
            with psycopg.connect(self.conninfo, autocommit=True, application_name=APPLICATION_NAME) as conn:
                while not self._stop.is_set():
                    self.samples.append(tuple(conn.execute(_SAMPLE).fetchone()))
                    time.sleep(self.interval)
        except Exception:  # noqa: BLE001 - a diagnostic only: no samples, no note
            return

    def summary(self) -> dict | None:
        return summarise(self.samples)


def summarise(samples) -> dict | None:
    if not samples:
        return None
    n = len(samples)
    return {"samples": n, "in_query": sum(s[0] for s in samples) / n, "in_client": sum(s[1] for s in samples) / n,
            "waiting_lock": sum(s[2] for s in samples) / n, "waiting_wal": sum(s[3] for s in samples) / n}


def backend_pids(conninfo: str) -> list[int]:
    """The benchmark database's client backends, this one and the sampler's excepted."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True, application_name=APPLICATION_NAME) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                            "AND backend_type = 'client backend' AND application_name <> %s",
                            [APPLICATION_NAME]).fetchall()
    return [pid for (pid,) in rows]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return found


def cpu_of(pids) -> float:
    """CPU seconds (user + system) used so far by these processes (those still alive)."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            continue
    return total
