"""The reconciliation figures of the benchmark (run by bench/recon.py in a process of their own;
nothing here runs in the test suite's timed paths):

- `time_eod(orders=1_000_000)`: one merchant-day of N platform orders against N ledger
  entries (a few differences of every kind mixed in), loaded set-based with
  INSERT … SELECT generate_series, then `eod_run` timed. Target: well under a minute.
- `time_statement_import(lines=100_000)`: a generated statement file of N lines (deposits
  with their payment codes, unidentified money in, money out) imported through
  `statement_import`, timed, with the process's peak memory. Target: under 30 s, < 200 MB.
  `matched_share` sets the share of lines that credit a deposit (0.1 by default): those go
  through the bulk deposit credit; the rest are parked in suspense, one entry per line.
  `file_format="xlsx"` writes the same statement as a workbook the way corporate banking
  exports it (a preamble, amounts stored as numbers, dates as datetimes, footers). Target:
  under 45 s and 400 MB.

PostgreSQL only (generate_series). Every run onboards a fresh merchant through the merchant
services, so runs never collide; the synthetic ledger entries carry no postings (the order
matching reads entries only) and the synthetic deposits are plain announced deposits."""
import datetime
import os
import resource
import secrets
import tempfile
import time
import tracemalloc
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction

from core.actors import Actor
from core.roles import OPERATIONS, RELATIONSHIP_MANAGER, RISK_OFFICER
from ledger.models import Deposit
from ledger.services.deposits import CODE_ALPHABET, CODE_LENGTH
from merchants.models import BusinessType, Merchant
from merchants.services.lifecycle import (
    merchant_activate,
    merchant_approve,
    merchant_create,
    merchant_submit,
)
from merchants.services.members import member_create
from merchants.uscc import make_uscc
from reconciliation.models import EodRun, OrderFile
from reconciliation.services.eod import eod_run
from reconciliation.services.imports import statement_import

ORDER_TYPES = (("deposit", "deposit"), ("payment", "payment"), ("refund", "refund"),
               ("withdrawal_request", "withdrawal"))


def _require_postgres():
    if connection.vendor != "postgresql":
        raise RuntimeError("the reconciliation benchmarks need PostgreSQL (generate_series)")


def _staff(name: str, role: str):
    user, created = get_user_model().objects.get_or_create(username=name, defaults={"is_staff": True})
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name=role))
    return user


def benchmark_merchant(*, members: int = 20) -> Merchant:
    """A merchant onboarded through the services (maker-checker, activation), with members."""
    rm = _staff("bench-recon-rm", RELATIONSHIP_MANAGER)
    tag = secrets.token_hex(4)
    merchant = merchant_create(
        actor=rm, code=f"bench-{tag}", legal_name=f"Benchmark Mall {tag} Co Ltd",
        uscc=make_uscc(f"91370100MA{int(tag, 16) % 10**7:07d}"), contact_name="Bench",
        contact_phone="0531-88888888", business_type=BusinessType.B2C_MALL, relationship_manager=rm)
    merchant_submit(merchant=merchant, actor=rm)
    merchant_approve(merchant=merchant, actor=_staff("bench-recon-risk", RISK_OFFICER))
    merchant, _secret = merchant_activate(merchant=merchant,
                                                            actor=_staff("bench-recon-ops", OPERATIONS))
    for i in range(members):
        member_create(merchant=merchant, actor=rm, user_id=f"m{i}", name=f"Member {i}",
                                        kind="individual", id_number="", phone="", roles=("buyer", "seller"))
    return merchant


# --- end of day ---------------------------------------------------------------------------------

def load_orders_and_entries(*, merchant, business_date: datetime.date, n: int, every: int = 1000) -> dict:
    """N orders in the platform's file and about N journal entries on the ledger side. Among
    every `every` orders: one is missing in the ledger, one has a ledger amount 0.01 higher;
    and N/every ledger entries have no order. Returns the expected counts."""
    _require_postgres()
    started = time.monotonic()
    types = "ARRAY[" + ",".join(f"'{e}'" for e, _o in ORDER_TYPES) + "]"
    order_types = "ARRAY[" + ",".join(f"'{o}'" for _e, o in ORDER_TYPES) + "]"
    amount = "(((i %% 9973) + 1)::numeric + 0.50)"
    with transaction.atomic():
        order_file = OrderFile.objects.create(merchant=merchant, business_date=business_date,
                                              source=OrderFile.Source.COMMAND, file_name=f"benchmark-{n}")
        with connection.cursor() as cursor:
            cursor.execute(f"""
                INSERT INTO reconciliation_orderfileline
                    (merchant_id, order_file_id, order_type, order_no, amount, payer_user_id, payee_user_id)
                SELECT %s, %s, ({order_types})[1 + i %% 4], 'BO-' || i, {amount}, 'm1', 'm2'
                FROM generate_series(1, %s) AS i""", [merchant.pk, order_file.pk, n])
            cursor.execute(f"""
                INSERT INTO ledger_journalentry
                    (merchant_id, entry_type, idempotency_ref, order_no, order_amount, description, actor_kind,
                     actor_label, business_date, created_at)
                SELECT %s, ({types})[1 + i %% 4], 'bench:' || %s || ':' || i, 'BO-' || i,
                       {amount} + CASE WHEN i %% %s = 2 THEN 0.01 ELSE 0 END, '', 'system', 'benchmark', %s, now()
                FROM generate_series(1, %s) AS i WHERE i %% %s <> 1""",
                           [merchant.pk, business_date.isoformat(), every, business_date, n, every])
            cursor.execute("""
                INSERT INTO ledger_journalentry
                    (merchant_id, entry_type, idempotency_ref, order_no, order_amount, description, actor_kind,
                     actor_label, business_date, created_at)
                SELECT %s, 'payment', 'bench-extra:' || %s || ':' || j, 'BX-' || j, 10.00, '', 'system',
                       'benchmark', %s, now()
                FROM generate_series(1, %s) AS j""", [merchant.pk, business_date.isoformat(), business_date,
                                                       n // every])
        OrderFile.objects.filter(pk=order_file.pk).update(line_count=n)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reconciliation_orderfileline")
        cursor.execute("ANALYZE ledger_journalentry")
    missing = sum(1 for i in range(1, n + 1) if i % every == 1)
    mismatched = sum(1 for i in range(1, n + 1) if i % every == 2)
    return {"seconds": round(time.monotonic() - started, 2), "orders": n,
            "expected": {"matched": n - missing - mismatched, "missing_in_ledger": missing,
                         "missing_in_orders": n // every, "amount_mismatches": mismatched}}


def time_eod(*, orders: int = 1_000_000, every: int = 1000, business_date: datetime.date | None = None) -> dict:
    """Load a merchant-day and time its end-of-day run; checks the counts it finds."""
    business_date = business_date or datetime.date(2026, 11, 24)
    merchant = benchmark_merchant(members=2)
    loaded = load_orders_and_entries(merchant=merchant, business_date=business_date, n=orders, every=every)
    started, cpu = time.monotonic(), time.process_time()
    run = eod_run(merchant=merchant, business_date=business_date, actor=Actor.system("benchmark"))
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    found = {k: getattr(run, k) for k in loaded["expected"]}
    return {"orders": orders, "load_seconds": loaded["seconds"], "eod_seconds": round(seconds, 2),
            "python_cpu_seconds": round(cpu, 2),
            "status": run.status, "differences": run.differences, "found": found,
            "counts_ok": found == loaded["expected"], "merchant": merchant.code,
            "rerun_seconds": _time_rerun(merchant, business_date)}


def _time_rerun(merchant, business_date) -> float:
    started = time.monotonic()
    eod_run(merchant=merchant, business_date=business_date, actor=Actor.system("benchmark"))
    assert EodRun.objects.filter(merchant=merchant, business_date=business_date).count() == 1
    return round(time.monotonic() - started, 2)


# --- statement import ---------------------------------------------------------------------------

def _code(prefix: str, i: int) -> str:
    digits = []
    for _ in range(CODE_LENGTH - len(prefix)):
        i, r = divmod(i, len(CODE_ALPHABET))
        digits.append(CODE_ALPHABET[r])
    return prefix + "".join(reversed(digits))


def load_open_deposits(*, merchant, count: int) -> list[tuple[str, Decimal]]:
    """`count` announced offline-transfer deposits (set-based); returns (payment code, amount)."""
    _require_postgres()
    prefix = "".join(secrets.choice(CODE_ALPHABET) for _ in range(3))
    members = list(merchant.members.values_list("pk", flat=True)) or [None]
    rows = [(_code(prefix, i), Decimal(100 + i % 9000) + Decimal("0.25"), members[i % len(members)])
            for i in range(count)]
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, count, 20000):
            chunk = rows[start:start + 20000]
            cursor.execute(
                """INSERT INTO ledger_deposit (merchant_id, member_id, amount, order_no, method, payment_code, status,
                                               proof_kind, proof_reference, settlement_reference, created_at)
                   SELECT %s, member_id, amount, 'BD-' || code, 'offline_transfer', code, %s, '', '', '', now()
                   FROM unnest(%s::text[], %s::numeric[], %s::bigint[]) AS t(code, amount, member_id)""",
                [merchant.pk, Deposit.Status.AWAITING_FUNDS, [r[0] for r in chunk], [r[1] for r in chunk],
                 [r[2] for r in chunk]])
    return [(code, amount) for code, amount, _m in rows]


def write_statement(path, *, lines: int, deposits: list[tuple[str, Decimal]], value_date: datetime.date,
                    out_every: int = 10) -> None:
    """A GBK statement with Chinese headers and 借方/贷方 columns: the deposits first (their code in
    the remark), then unidentified money in, with money out every `out_every` lines."""
    balance = Decimal("0.00")
    day = value_date.strftime("%Y%m%d")
    with open(path, "w", encoding="gb18030", newline="") as out:
        out.write("监管账户交易明细\r\n交易日期,流水号,借方发生额,贷方发生额,对方户名,对方账号,摘要,余额\r\n")
        for i in range(lines):
            if i < len(deposits):
                code, amount = deposits[i]
                debit, credit, remark = "", amount, f"货款 {code}"
            elif i % out_every == 0:
                debit, credit, remark = Decimal("12.30"), "", "手续费"
            else:
                debit, credit, remark = "", Decimal(50 + i % 500) + Decimal("0.10"), "转账"
            balance += (credit or 0) - (debit or 0)
            out.write(f"{day},BS{i:09d},{debit},{credit},张三{i % 97},62220202{i:010d},{remark},{balance:,.2f}\r\n")
        out.write("合计,,,,,,,\r\n")


def write_statement_xlsx(path, *, lines: int, deposits: list[tuple[str, Decimal]], value_date: datetime.date,
                         account: str, out_every: int = 10) -> None:
    """The same statement as write_statement, as an .xlsx workbook (openpyxl's streaming writer):
    a preamble with the account number, 交易时间 as datetimes, 借方/贷方 as numbers, footers."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("账户明细")
    for row in (["账户交易明细"], ["账号", account], ["币种", "人民币"], [],
                ["交易时间", "交易流水号", "借方发生额", "贷方发生额", "对方账户名称", "对方账户", "交易摘要", "账户余额"]):
        sheet.append(row)
    balance = Decimal("0.00")
    when = datetime.datetime.combine(value_date, datetime.time(9, 30))
    for i in range(lines):
        if i < len(deposits):
            code, amount = deposits[i]
            debit, credit, remark = None, amount, f"货款 {code}"
        elif i % out_every == 0:
            debit, credit, remark = Decimal("12.30"), None, "手续费"
        else:
            debit, credit, remark = None, Decimal(50 + i % 500) + Decimal("0.10"), "转账"
        balance += (credit or 0) - (debit or 0)
        sheet.append([when, f"BS{i:09d}", float(debit) if debit else None, float(credit) if credit else None,
                      f"张三{i % 97}", f"62220202{i:010d}", remark, float(balance)])
    sheet.append(["人民币合计"])
    sheet.append(["以上数据仅供参考"])
    book.save(path)


def time_statement_import(*, lines: int = 100_000, matched_share: float = 0.1, trace_memory: bool = False,
                          value_date: datetime.date | None = None, file_format: str = "csv") -> dict:
    """Generate and import a statement; wall time, peak memory (ru_maxrss, and tracemalloc's
    peak of Python allocations when asked: it slows the run, so time the run without it)."""
    value_date = value_date or datetime.date(2026, 11, 24)
    merchant = benchmark_merchant(members=20)
    deposits = load_open_deposits(merchant=merchant, count=int(lines * matched_share))
    fd, path = tempfile.mkstemp(suffix=f".{file_format}")
    os.close(fd)
    try:
        if file_format == "xlsx":
            write_statement_xlsx(path, lines=lines, deposits=deposits, value_date=value_date,
                                 account=merchant.supervision_account_number)
        else:
            write_statement(path, lines=lines, deposits=deposits, value_date=value_date)
        size = os.path.getsize(path)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if trace_memory:
            tracemalloc.start()
        started, cpu = time.monotonic(), time.process_time()
        with open(path, "rb") as stream:
            result = statement_import(account_number=merchant.supervision_account_number, stream=stream,
                                      file_name=f"benchmark.{file_format}", actor=Actor.system("benchmark"))
        seconds, cpu = time.monotonic() - started, time.process_time() - cpu
        traced = tracemalloc.get_traced_memory()[1] if trace_memory else None
        if trace_memory:
            tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    finally:
        os.unlink(path)
    return {"lines": lines, "file_format": file_format, "file_mb": round(size / 2**20, 1), "seconds": round(seconds, 2),
            "python_cpu_seconds": round(cpu, 2), "result": result.as_json() | {"errors": len(result.errors)}, "refused": result.refused,
            "peak_rss_mb": round(rss_after / 1024, 1), "rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
            "tracemalloc_peak_mb": round(traced / 2**20, 1) if traced is not None else None,
            "merchant": merchant.code}
