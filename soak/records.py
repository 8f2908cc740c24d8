"""What the soak records: per HTTP attempt (Stats) and per operation (Op)."""
import time
from dataclasses import dataclass, field


@dataclass
class Stats:
    """Per HTTP attempt: latency and status ("transport" for no answer)."""

    latencies_ms: list = field(default_factory=list)
    statuses: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)  # error code -> count (4xx/5xx answers)
    samples: dict = field(default_factory=dict)  # status/code -> one message
    # 503 database_unavailable answers that carried Retry-After (the contract while the database
    # is down: not an error of ours) and those that did not (a finding).
    unavailable: int = 0
    unavailable_without_retry_after: int = 0
    answered_at: list = field(default_factory=list)  # (time.monotonic() at the answer, status)

    def add(self, ms: float | None, status, code: str | None = None, message: str = ""):
        if ms is not None:
            self.latencies_ms.append(ms)
        self.answered_at.append((time.monotonic(), str(status)))
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
        if code:
            self.codes[code] = self.codes.get(code, 0) + 1
        key = f"{status} {code or ''}".strip()
        if message and key not in self.samples and str(status) not in ("200", "201"):
            self.samples[key] = message[:300]


@dataclass
class Op:
    kind: str
    key: str | None
    order_no: str | None = None
    amount: str | None = None
    ref: dict = field(default_factory=dict)  # ids and what the check needs (payment id, deposit id...)
    outcome: str = "pending"
    attempts: int = 0
    transport_failures: int = 0
    in_progress: int = 0
    server_errors: int = 0
    unavailable: int = 0  # 503 database_unavailable answers, retried after Retry-After
    throttled: int = 0

    @property
    def retried(self) -> bool:
        return self.attempts > 1
