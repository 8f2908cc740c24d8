"""A realistic merchant for the benchmark, loaded set-based (INSERT … SELECT generate_series).

The merchant itself is onboarded through the services (maker-checker, activation opens its
accounts and issues API credentials). Its members and their history are written in bulk —
booking a million postings one service call at a time would take hours — but they obey
every rule the posting engine obeys:
- each member gets a deposit (supervision account ↔ member available), then payments between
  pseudo-random member pairs with a 1 % platform fee (payer → payee, fee → fee income), each
  a balanced journal entry with its Payment and PaymentSplit rows;
- postings carry the balance after them (a running sum per account), materialised balances
  are the sum of the postings, hot accounts carry no pending delta, no balance goes below
  zero (deposits are far larger than what a member spends).
As a superuser (the throwaway cluster, the test database) the load skips the per-row triggers
— ~15 trigger calls per payment — the way pg_restore does, and checks the same rules
set-based afterwards (`verify_history`: every entry sums to zero, every posting, payment and
split belongs to its merchant's entry, account and members); otherwise the triggers fire as
for the engine. Either way `ledger.selectors.prove_merchant` must hold at the end (total =
sum of parts, every balance = Σ postings), or the load fails.
History is spread over the 30 business days before today, so today's books hold only what
the benchmark itself books."""
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction

from core.roles import OPERATIONS, RELATIONSHIP_MANAGER, RISK_OFFICER
from ledger.models import (
    Account,
    AccountKind,
    Deposit,
    EntryType,
    JournalEntry,
    Payment,
    PaymentSplit,
    Posting,
)
from ledger.selectors import prove_merchant
from merchants.models import BusinessType, Member
from merchants.services.lifecycle import (
    merchant_activate,
    merchant_approve,
    merchant_create,
    merchant_submit,
)
from merchants.uscc import make_uscc

from .bulk_rules import bulk_mode, can_bulk_load, verify_history

DEPOSIT = Decimal("100000.00")  # each member's opening deposit: far more than the benchmark spends
PAYMENTS_PER_CHUNK = 50_000  # one transaction each: the deferred checks of 150,000 postings at a time
HISTORY_DAYS = 30


class LoadError(RuntimeError):
    pass


@dataclass
class LoadedMerchant:
    merchant_id: int
    app_id: str
    secret: str
    member_ids: list[int]
    user_ids: dict[int, str]  # member id -> platform user id
    seller_id: int  # the one seller of the hot-account scenario
    members: int = 0
    entries: int = 0
    postings: int = 0
    seconds: float = 0.0
    proof_ok: bool = False
    timings: dict = field(default_factory=dict)


def load_merchant(*, members: int, postings: int, log=print) -> LoadedMerchant:
    started = time.monotonic()
    merchant, secret = _onboard()
    connection.close()  # a fresh session: no foreign-key check plans cached from before the load
    timings = {}
    bulk = can_bulk_load()
    t = time.monotonic()
    _insert_members(merchant, members, bulk)
    timings["members"] = time.monotonic() - t
    accounts = {a.kind: a for a in Account.objects.filter(merchant=merchant, member__isnull=True)}
    t = time.monotonic()
    _deposits(merchant, accounts[AccountKind.SUPERVISION], bulk)
    timings["deposits"] = time.monotonic() - t
    payments = max(0, -(-(postings - 2 * members) // 3))  # 3 postings per payment with a fee
    t = time.monotonic()
    done = 0
    while done < payments:
        n = min(PAYMENTS_PER_CHUNK, payments - done)
        _payments(merchant, accounts[AccountKind.FEE_INCOME], first=done + 1, count=n, members=members, bulk=bulk)
        done += n
        log(f"bench: loaded {done:,} / {payments:,} history payments")
    timings["payments"] = time.monotonic() - t
    t = time.monotonic()
    for model in (Member, Account, JournalEntry, Posting, Payment, PaymentSplit, Deposit):
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    timings["vacuum_analyze"] = time.monotonic() - t
    t = time.monotonic()
    problems = verify_history(merchant)
    if problems:
        raise LoadError("the loaded history breaks the ledger's rules: " + "; ".join(problems))
    proof = prove_merchant(merchant)
    timings["proof"] = time.monotonic() - t
    if not proof.ok:
        raise LoadError(f"the loaded merchant does not prove: supervision {proof.supervision_balance}, "
                        f"virtual {proof.virtual_total}, {len(proof.mismatched_accounts)} mismatched accounts")
    rows = list(Member.objects.filter(merchant=merchant).order_by("id").values_list("id", "user_id"))
    _make_hot(seller_id=rows[0][0])
    return LoadedMerchant(
        merchant_id=merchant.pk, app_id=merchant.app_id, secret=secret, member_ids=[pk for pk, _u in rows],
        user_ids=dict(rows), seller_id=rows[0][0], members=len(rows),
        entries=JournalEntry.objects.filter(merchant=merchant).count(),
        postings=Posting.objects.filter(merchant=merchant).count(),
        seconds=time.monotonic() - started, proof_ok=proof.ok, timings=timings,
    )


def _make_hot(*, seller_id: int) -> None:
    """The hot scenario's seller takes its credits the hot way (deltas, no row lock), as a busy
    seller marked hot by ledger.services.hot_flagging would: so its figure measures that path.
    After the proof, its history's postings keep their balance after; no delta is pending yet."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Account._meta.db_table} SET is_hot = true WHERE member_id = %s AND kind = %s",
                       [seller_id, AccountKind.MEMBER_AVAILABLE])


# --- the merchant, through the services -------------------------------------------------------

def _staff(role: str, tag: str):
    user = get_user_model().objects.create_user(username=f"bench-{role}-{tag}", is_staff=True,
                                                password=secrets.token_urlsafe(16))
    user.groups.add(Group.objects.get(name=role))
    return user


def _onboard():
    tag = secrets.token_hex(3)
    rm, risk, ops = (_staff(role, tag) for role in (RELATIONSHIP_MANAGER, RISK_OFFICER, OPERATIONS))
    serial = int(tag, 16) % 10_000_000
    merchant = merchant_create(
        actor=rm, code=f"bench-{tag}", legal_name=f"Benchmark Mall {tag} Co Ltd",
        uscc=make_uscc(f"91370100MB{serial:07d}"), contact_name="Bench", contact_phone="0531-88888888",
        business_type=BusinessType.B2C_MALL, relationship_manager=rm,
    )
    merchant_submit(merchant=merchant, actor=rm)
    merchant_approve(merchant=merchant, actor=risk)
    merchant, secret = merchant_activate(merchant=merchant, actor=ops)
    return merchant, secret


# --- set-based inserts -------------------------------------------------------------------------

def insert_select(model, exprs: dict[str, str], source: str, params: dict | None = None) -> int:
    """INSERT INTO <model's table> (columns) SELECT <exprs> FROM <source>, with named
    parameters (%(name)s). Columns not given take the field's Python default (as a parameter)
    or NULL; a column with neither is an error, so a field someone adds later is noticed here
    rather than loaded wrong."""
    meta = model._meta
    known = {f.column for f in meta.concrete_fields}
    unknown = set(exprs) - known
    if unknown:
        raise LoadError(f"{meta.label} has no column(s) {sorted(unknown)}")
    columns, values, all_params = [], [], dict(params or {})
    for f in meta.concrete_fields:
        if f.column in exprs:
            columns.append(f.column)
            values.append(exprs[f.column])
        elif f.primary_key or f.null:
            continue
        elif f.empty_strings_allowed and f.blank and not f.has_default():
            columns.append(f.column)
            values.append("''")  # what a form or a service leaves in a blank text field
        elif f.has_default():
            columns.append(f.column)
            values.append(f"%(default_{f.column})s")
            all_params[f"default_{f.column}"] = f.get_db_prep_save(f.get_default(), connection)
        else:
            raise LoadError(f"{meta.label}.{f.name} needs a value in the benchmark loader")
    sql = f"INSERT INTO {meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source}"
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        return cursor.rowcount


@transaction.atomic
def _insert_members(merchant, n: int, bulk: bool):
    bulk_mode(bulk)
    insert_select(Member, {
        "merchant_id": "%(merchant)s", "user_id": "'bm' || lpad(g::text, 6, '0')", "kind": "'individual'",
        "name": "'Bench member ' || g", "status": "'active'", "is_buyer": "true", "is_seller": "true",
        "created_at": "now() - interval '400 days'",
    }, "generate_series(1, %(n)s) AS g", {"merchant": merchant.pk, "n": n})
    insert_select(Account, {
        "merchant_id": "m.merchant_id", "member_id": "m.id", "kind": "k.kind", "is_hot": "false",
        "balance": "0", "frozen": "false", "created_at": "m.created_at",
    }, f"{Member._meta.db_table} m CROSS JOIN (VALUES (%(available)s), (%(frozen)s)) AS k(kind) "
       f"WHERE m.merchant_id = %(merchant)s",
        {"available": AccountKind.MEMBER_AVAILABLE, "frozen": AccountKind.MEMBER_FROZEN, "merchant": merchant.pk})
    # The members, numbered 1..n, with their available account: the source of every history row.
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_member")
        cursor.execute(
            f"""CREATE UNLOGGED TABLE bench_member AS
                SELECT row_number() OVER (ORDER BY m.id) AS i, m.id AS member_id, m.user_id, a.id AS account_id
                FROM {Member._meta.db_table} m JOIN {Account._meta.db_table} a
                  ON a.member_id = m.id AND a.kind = %s
                WHERE m.merchant_id = %s""", [AccountKind.MEMBER_AVAILABLE, merchant.pk])
        cursor.execute("ALTER TABLE bench_member ADD PRIMARY KEY (i)")


@transaction.atomic
def _deposits(merchant, supervision: Account, bulk: bool):
    """Every member's opening deposit: supervision (asset) up, member available up."""
    bulk_mode(bulk)
    entry_t, posting_t, account_t = (JournalEntry._meta.db_table, Posting._meta.db_table, Account._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_deposit")
        cursor.execute(
            f"""CREATE UNLOGGED TABLE bench_deposit AS
                SELECT b.i, b.member_id, b.account_id, nextval(pg_get_serial_sequence('{entry_t}', 'id')) AS entry_id,
                       (current_date - {HISTORY_DAYS + 1}) AS day
                FROM bench_member b""")
    params = {"merchant": merchant.pk, "type": EntryType.DEPOSIT, "amount": DEPOSIT, "supervision": supervision.pk}
    insert_select(JournalEntry, {
        "id": "d.entry_id", "merchant_id": "%(merchant)s", "entry_type": "%(type)s",
        "idempotency_ref": "'bench-deposit:' || d.i", "order_no": "'BD' || d.i", "payee_id": "d.member_id",
        "order_amount": "%(amount)s", "description": "''", "actor_kind": "'system'", "actor_label": "'bench-loader'",
        "business_date": "d.day", "created_at": "d.day + time '09:00'",
    }, "bench_deposit d", params)
    insert_select(Deposit, {
        "merchant_id": "%(merchant)s", "member_id": "d.member_id", "amount": "%(amount)s", "order_no": "'BD' || d.i",
        "method": "'offline_transfer'", "payment_code": "'BD' || lpad(d.i::text, 8, '0')", "status": "'succeeded'",
        "entry_id": "d.entry_id", "proof_kind": "'statement_line'", "proof_reference": "'bench:' || d.i",
        "credited_at": "d.day + time '09:00'", "created_at": "d.day + time '08:00'",
    }, "bench_deposit d", params)
    if not bulk:
        _analyze(JournalEntry, Account, Member, Deposit)
    # Postings in leg order: the supervision account's debit (hot: no balance after), then
    # the member's credit.
    insert_select(Posting, {
        "id": "nextval(pg_get_serial_sequence('%s', 'id'))" % Posting._meta.db_table,
        "merchant_id": "%(merchant)s", "entry_id": "d.entry_id", "account_id": "d.account_id", "amount": "d.amount",
        "balance_after": "d.balance_after",
    }, "(SELECT b.i, b.entry_id, x.leg, x.account_id, x.amount, x.balance_after FROM bench_deposit b "
       "CROSS JOIN LATERAL (VALUES (1, %(supervision)s::bigint, %(amount)s::numeric, NULL::numeric), "
       "(2, b.account_id, -%(amount)s::numeric, %(amount)s::numeric)) AS x(leg, account_id, amount, balance_after) "
       "ORDER BY b.i, x.leg) d", params)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {account_t} SET balance = balance + %s WHERE id IN (SELECT account_id FROM bench_deposit)",
                       [DEPOSIT])
        cursor.execute(f"UPDATE {account_t} SET balance = balance + %s * (SELECT count(*) FROM bench_deposit) "
                       f"WHERE id = %s", [DEPOSIT, supervision.pk])
        cursor.execute("DROP TABLE bench_deposit")


@transaction.atomic
def _payments(merchant, fee_income: Account, *, first: int, count: int, members: int, bulk: bool):
    """`count` direct payments numbered from `first`, between pseudo-random member pairs, 10.00
    to 99.99 each with a 1 % fee (at least 0.10); three postings each, in leg order."""
    bulk_mode(bulk)
    entry_t, posting_t, account_t = (JournalEntry._meta.db_table, Posting._meta.db_table, Account._meta.db_table)
    payment_t, split_t = Payment._meta.db_table, PaymentSplit._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_payment")
        # Payer and payee from two different multiplicative hashes of the payment number:
        # spread over every member, never the same member twice in one payment.
        cursor.execute(
            f"""CREATE UNLOGGED TABLE bench_payment AS
                SELECT s.g, s.payer, CASE WHEN s.payee = s.payer THEN mod(s.payer, %(n)s) + 1 ELSE s.payee END AS payee,
                       s.amount, greatest(round(s.amount * 0.01, 2), 0.10) AS fee,
                       nextval(pg_get_serial_sequence('{entry_t}', 'id')) AS entry_id,
                       nextval(pg_get_serial_sequence('{payment_t}', 'id')) AS payment_id,
                       current_date - 1 - mod(s.g, {HISTORY_DAYS})::int AS day
                FROM (SELECT g, mod(g * 7919, %(n)s) + 1 AS payer, mod(g * 104729 + 13, %(n)s) + 1 AS payee,
                             10.00 + mod(g * 31, 9000) / 100.0 AS amount
                      FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g) s""",
            {"n": members, "first": first, "last": first + count - 1})
        cursor.execute(
            """CREATE UNLOGGED TABLE bench_payment_rows AS
               SELECT p.*, a.member_id AS payer_member, a.account_id AS payer_account,
                      b.member_id AS payee_member, b.account_id AS payee_account
               FROM bench_payment p JOIN bench_member a ON a.i = p.payer JOIN bench_member b ON b.i = p.payee""")
        cursor.execute("DROP TABLE bench_payment")
        cursor.execute("ALTER TABLE bench_payment_rows RENAME TO bench_payment")
    src = "bench_payment p"
    params = {"merchant": merchant.pk, "type": EntryType.PAYMENT, "actor": f"platform:{merchant.app_id}"}
    insert_select(Payment, {
        "id": "p.payment_id", "merchant_id": "%(merchant)s", "order_no": "'H' || p.g", "payer_id": "p.payer_member",
        "mode": "'direct'", "amount": "p.amount", "platform_fee": "p.fee", "description": "''",
        "status": "'settled'", "fingerprint": "encode(sha256(('bench:' || p.g)::bytea), 'hex')",
        "entry_id": "p.entry_id", "created_at": "p.day + time '10:00' + mod(p.g, 21600) * interval '1 second'",
    }, src, params)
    insert_select(PaymentSplit, {
        "merchant_id": "%(merchant)s", "payment_id": "p.payment_id", "payee_id": "p.payee_member",
        "amount": "p.amount - p.fee",
    }, src, params)
    insert_select(JournalEntry, {
        "id": "p.entry_id", "merchant_id": "%(merchant)s", "entry_type": "%(type)s",
        "idempotency_ref": "'payment:' || p.payment_id", "order_no": "'H' || p.g", "payer_id": "p.payer_member",
        "payee_id": "p.payee_member", "order_amount": "p.amount", "description": "''", "actor_kind": "'platform'",
        "actor_label": "%(actor)s", "business_date": "p.day",
        "created_at": "p.day + time '10:00' + mod(p.g, 21600) * interval '1 second'",
    }, src, params)
    if not bulk and first == 1:
        _analyze(JournalEntry, Payment)
    with connection.cursor() as cursor:
        # The legs in the engine's order — payer, payee, fee — with posting ids drawn in that
        # order, and each member posting's balance after it: the account's balance before the
        # chunk minus the running sum of its postings (liabilities: a debit lowers them).
        cursor.execute(
            f"""CREATE UNLOGGED TABLE bench_posting AS
                SELECT nextval(pg_get_serial_sequence('{posting_t}', 'id')) AS id, l.*
                FROM (SELECT p.g, p.entry_id, x.leg, x.account_id, x.amount, x.member
                      FROM bench_payment p CROSS JOIN LATERAL (VALUES
                          (1, p.payer_account, p.amount, true),
                          (2, p.payee_account, -(p.amount - p.fee), true),
                          (3, %s::bigint, -p.fee, false)) AS x(leg, account_id, amount, member)
                      ORDER BY p.g, x.leg) l""", [fee_income.pk])
    insert_select(Posting, {
        "id": "q.id", "merchant_id": "%(merchant)s", "entry_id": "q.entry_id", "account_id": "q.account_id",
        "amount": "q.amount",
        "balance_after": "CASE WHEN q.member THEN a.balance - sum(q.amount) OVER "
                         "(PARTITION BY q.account_id ORDER BY q.id ROWS UNBOUNDED PRECEDING) END",
    }, f"bench_posting q JOIN {account_t} a ON a.id = q.account_id ORDER BY q.id", params)
    with connection.cursor() as cursor:
        # Liabilities: natural balance = −Σ posting amounts. The fee account is hot, but the
        # history is already rolled up: no pending deltas.
        cursor.execute(
            f"""UPDATE {account_t} a SET balance = a.balance - s.total
                FROM (SELECT account_id, sum(amount) AS total FROM bench_posting GROUP BY account_id) s
                WHERE a.id = s.account_id""")
        cursor.execute(f"SELECT count(*) FROM {account_t} WHERE merchant_id = %s AND balance < 0", [merchant.pk])
        negative = cursor.fetchone()[0]
        if negative:
            raise LoadError(f"{negative} accounts went below zero: the history is wrong")
        cursor.execute("DROP TABLE bench_posting")
        cursor.execute("DROP TABLE bench_payment")


def _analyze(*models):
    """Statistics before the deferred checks run at commit: PostgreSQL plans each foreign-key
    check once per session and keeps the plan, and a plan made while the tables looked empty
    (the (merchant_id, id) key checked through the merchant_id index) turns every later check
    into a scan of the whole merchant. ANALYZE inside the transaction sees its own rows."""
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {model._meta.db_table}")


def drop_scratch_tables():
    with connection.cursor() as cursor:
        for table in ("bench_member", "bench_deposit", "bench_payment", "bench_payment_rows", "bench_posting"):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
