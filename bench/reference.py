"""A second reference: the same payment booked by a ledger written in plain SQL.

pgbench's TPC-B is the least a durable movement can cost; this is what the database itself can
do with a payment like the service's cold one. A pgledger-style ledger (the public project
pgledger: accounts with a balance that may not go below zero, one transfer row per transfer,
two entry rows per transfer with the balance after) lives in its own schema `ref` of pgbench's
database, with as many accounts as the benchmark's merchant has members plus one fee account.
A PL/pgSQL function books a payment in one call:
- `ref.payment(buyer, seller, net, fee)`: the 3-leg payment of the cold scenario — buyer →
  seller and buyer → fee account; the three accounts locked in id order (the fee account is
  one row every payment shares, locked like the others), then per leg a conditional debit
  (refused below zero), the credit, a transfer row and its two entry rows;
- `ref.transfer(from, to, amount)`: the same for one transfer without the fee (pgledger's own
  transfer), for context: what the shared fee row costs.
pgbench drives each with a custom script (random buyer and seller, never the same, an amount of
10.00 to 99.99 and a 1 % fee of at least 0.10 as the workers pay), 8 clients, in the same
rounds as every other figure, logging each transaction for percentiles. `prove` checks its
books afterwards: every account's balance is its opening balance plus its entries."""
import os
import tempfile
from dataclasses import dataclass, field

from . import pgbench

OPENING = "100000.00"  # each account's opening balance, as the loaded members' deposits
FEE_ACCOUNT = 0  # the lowest id, as the platform's fee income account is older than every member

SCHEMA = """
DROP SCHEMA IF EXISTS ref CASCADE;
CREATE SCHEMA ref;
CREATE TABLE ref.accounts (
    id bigint PRIMARY KEY,
    balance numeric(18, 2) NOT NULL CONSTRAINT balance_not_negative CHECK (balance >= 0)
);
CREATE TABLE ref.transfers (
    id bigserial PRIMARY KEY,
    from_account_id bigint NOT NULL REFERENCES ref.accounts (id),
    to_account_id bigint NOT NULL REFERENCES ref.accounts (id),
    amount numeric(18, 2) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transfer_between_two_accounts CHECK (amount > 0 AND from_account_id <> to_account_id)
);
CREATE INDEX ON ref.transfers (from_account_id);
CREATE INDEX ON ref.transfers (to_account_id);
CREATE TABLE ref.entries (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES ref.accounts (id),
    transfer_id bigint NOT NULL REFERENCES ref.transfers (id),
    amount numeric(18, 2) NOT NULL,
    balance_after numeric(18, 2) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON ref.entries (account_id);
CREATE INDEX ON ref.entries (transfer_id);

-- One leg, its two accounts already locked by the caller: the debit only if it leaves the
-- account at or above zero, the credit, the transfer and its two entries with balance after.
CREATE FUNCTION ref.leg(p_from bigint, p_to bigint, p_amount numeric) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    from_after numeric;
    to_after numeric;
    transfer bigint;
BEGIN
    UPDATE ref.accounts SET balance = balance - p_amount WHERE id = p_from AND balance >= p_amount
        RETURNING balance INTO from_after;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insufficient funds on account %', p_from USING ERRCODE = 'P0001';
    END IF;
    UPDATE ref.accounts SET balance = balance + p_amount WHERE id = p_to RETURNING balance INTO to_after;
    INSERT INTO ref.transfers (from_account_id, to_account_id, amount) VALUES (p_from, p_to, p_amount)
        RETURNING id INTO transfer;
    INSERT INTO ref.entries (account_id, transfer_id, amount, balance_after)
        VALUES (p_from, transfer, -p_amount, from_after), (p_to, transfer, p_amount, to_after);
    RETURN transfer;
END $$;

CREATE FUNCTION ref.payment(p_buyer bigint, p_seller bigint, p_net numeric, p_fee numeric) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    transfer bigint;
BEGIN
    PERFORM 1 FROM ref.accounts WHERE id IN (p_buyer, p_seller, __FEE__) ORDER BY id FOR UPDATE;
    transfer := ref.leg(p_buyer, p_seller, p_net);
    PERFORM ref.leg(p_buyer, __FEE__, p_fee);
    RETURN transfer;
END $$;

CREATE FUNCTION ref.transfer(p_from bigint, p_to bigint, p_amount numeric) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM ref.accounts WHERE id IN (p_from, p_to) ORDER BY id FOR UPDATE;
    RETURN ref.leg(p_from, p_to, p_amount);
END $$;
"""

# A buyer and a different seller (an offset of 0..n-2 from the buyer, wrapping round), an
# amount in cents and its fee, as the payment workers draw them.
_DRAW = r"""\set buyer random(1, :accounts)
\set seller 1 + (:buyer + random(0, :accounts - 2)) % :accounts
\set cents random(1000, 9999)
\set fee greatest(10, (:cents + 50) / 100)
"""
SCRIPTS = {
    "payment": _DRAW + "SELECT ref.payment(:buyer, :seller, (:cents - :fee) * 0.01, :fee * 0.01);\n",
    "transfer": _DRAW + "SELECT ref.transfer(:buyer, :seller, :cents * 0.01);\n",
}
CLIENTS = 8


def install(url: str, *, accounts: int) -> None:
    """The schema, its functions and `accounts` funded accounts (ids 1..n) beside the fee account."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA.replace("__FEE__", str(FEE_ACCOUNT)))
        conn.execute("INSERT INTO ref.accounts (id, balance) SELECT %s, 0 UNION ALL "
                     "SELECT g, %s::numeric FROM generate_series(1, %s::bigint) AS g", [FEE_ACCOUNT, OPENING, accounts])
        conn.execute("VACUUM ANALYZE ref.accounts")


def prove(url: str, *, accounts: int) -> dict:
    """Every account's balance = its opening balance + Σ its entries; every transfer has two."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        wrong = conn.execute(
            """SELECT count(*) FROM ref.accounts a
               LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ref.entries GROUP BY account_id) e
                 ON e.account_id = a.id
               WHERE a.balance <> CASE WHEN a.id = %s THEN 0 ELSE %s::numeric END + coalesce(e.total, 0)""",
            [FEE_ACCOUNT, OPENING]).fetchone()[0]
        transfers, entries = conn.execute(
            "SELECT (SELECT count(*) FROM ref.transfers), (SELECT count(*) FROM ref.entries)").fetchone()
    return {"ok": wrong == 0 and entries == 2 * transfers, "mismatched_accounts": wrong, "transfers": transfers,
            "entries": entries, "accounts": accounts}


@dataclass
class Figure:
    """One script's rounds added up: transactions over seconds, latencies pooled."""

    script: str
    transactions: float = 0.0
    seconds: float = 0.0
    failed: int = 0
    latencies_ms: list = field(default_factory=list)
    error: dict | None = None

    def run(self, url: str, *, accounts: int, seconds: int, bindir: str | None):
        with tempfile.NamedTemporaryFile("w", prefix=f"jianguan-ref-{self.script}-", suffix=".sql",
                                         delete=False) as fh:
            fh.write(SCRIPTS[self.script])
        try:
            result = pgbench.run(url, clients=CLIENTS, seconds=seconds, bindir=bindir, script=fh.name,
                                 defines={"accounts": accounts}, latencies=True)
        finally:
            os.unlink(fh.name)
        self.transactions += result.tps * result.seconds
        self.seconds += result.seconds
        self.failed += result.failed
        self.latencies_ms += result.latencies_ms
        return result

    def result(self, **extra) -> dict:
        from .workers import Measurement

        if self.error is not None:
            return self.error
        if not self.seconds:
            return {"error": "not measured"}
        spread = Measurement(latencies_ms=self.latencies_ms)
        n = len(self.latencies_ms)
        mean = sum(self.latencies_ms) / n if n else None
        stddev = (sum((x - mean) ** 2 for x in self.latencies_ms) / n) ** 0.5 if n else None
        return {"tps": self.transactions / self.seconds, "p50_ms": spread.percentile(50),
                "p99_ms": spread.percentile(99), "latency_avg_ms": mean, "latency_stddev_ms": stddev,
                "failed": self.failed, "seconds": self.seconds, "clients": CLIENTS, **extra}
