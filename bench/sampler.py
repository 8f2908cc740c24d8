"""What the workers wait for during a measurement, sampled from pg_stat_activity.

Throughput alone can't tell a row lock from a busy CPU. Ten times a second, this counts the
benchmark database's client backends that are inside a statement — and among those, waiting
for a row lock (a hot account's row, held until its transaction commits) or for the WAL to
reach the disk (a durable commit) — and those idle inside a transaction, i.e. waiting for
their client (Python) to send the next statement. The averages go in the report's notes."""
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
            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                while not self._stop.is_set():
                    self.samples.append(tuple(conn.execute(_SAMPLE).fetchone()))
                    time.sleep(self.interval)
        except Exception:  # noqa: BLE001 - a diagnostic only: no samples, no note
            return

    def summary(self) -> dict | None:
        if not self.samples:
            return None
        n = len(self.samples)
        return {"samples": n, "in_query": sum(s[0] for s in self.samples) / n,
                "in_client": sum(s[1] for s in self.samples) / n,
                "waiting_lock": sum(s[2] for s in self.samples) / n,
                "waiting_wal": sum(s[3] for s in self.samples) / n}
