"""One table from one run: each figure, its value, its ratio to the reference (pgbench TPC-B at
8 clients) and whether its target is met. The same rows go to the JSON file.

The targets compare figures of the same run: cold payments@8 with TPC-B@8 and with the
plain-SQL ledger's 3-leg payment (bench.reference), the hot seller and guaranteed hold +
release with cold@8, the API (single payments, and payments booked by batches of 100) with
TPC-B@8, and p99 with p50 of each scenario at 8 workers."""
import json

NA = "not available"

# The targets, as ratios to pgbench TPC-B@8 (or seconds and MB).
COLD_VS_TPCB = 0.50
COLD_VS_SQL_PAYMENT = 1.00  # above the plain-SQL 3-leg payment
HOT_VS_COLD = 0.70  # the hot seller, and guaranteed hold + release
API_VS_TPCB = 0.15
API_BATCH_VS_TPCB = 1.00  # payments booked per second by batches of 100
P99_OVER_P50 = 10.0
EOD_SECONDS = 60.0
IMPORT_SECONDS = 30.0
IMPORT_MB = 300.0
IMPORT_XLSX_SECONDS = 45.0  # a 100,000-line .xlsx statement
IMPORT_XLSX_MB = 400.0


def _num(value, digits=1):
    return f"{value:,.{digits}f}"


def _ms(value):
    return "" if value is None else f"{value:,.1f} ms"


def _pct(value):
    return "" if value is None else f"{value * 100:.0f} %"


def _timing(results) -> str:
    sizes = results.get("sizes", {})
    rounds = sizes.get("rounds") or 1
    text = f"{sizes.get('seconds')} s per figure"
    if rounds > 1:
        text += f" (in {rounds} interleaved rounds of {round(sizes.get('seconds', 0) / rounds)} s)"
    return text


def _load(values):
    return "/".join(f"{v:.1f}" for v in values) if values else "?"


def _met(ok):
    return "" if ok is None else ("met" if ok else "NOT met")


TITLES = {"cold": "Payments, random member pairs + fee (cold accounts)",
          "cold_python": "Payments, random member pairs + fee, by the Python posting engine (before: "
                         "JIANGUAN_BOOK_IN_DATABASE off)",
          "hot": "Payments, every one to one seller (hot account)",
          "hold_release": "Guaranteed hold + release (movements/s: holds and releases, each one transaction)"}
SQL_TITLES = {"payment": "Reference: 3-leg payment in plain SQL (pgledger-style), pgbench 8 clients",
              "transfer": "Reference: 2-leg transfer in plain SQL (pgledger-style, no fee), pgbench 8 clients"}


def _share_target(value, base, share, name) -> tuple[str, bool | None]:
    """The target text "≥ 50 % of TPC-B@8 (is 43 %)" and whether it is met (None: no base)."""
    if not base:
        return f"≥ {_pct(share)} of {name}", None
    return f"≥ {_pct(share)} of {name} (is {_pct(value / base)})", value >= share * base


def _sql_note(node, script) -> str:
    accounts = f"{node['accounts']:,} accounts" if node.get("accounts") else ""
    if accounts and script == "payment":
        accounts += " and one shared fee account"
    parts = [accounts,
             f"latency avg {_ms(node.get('latency_avg_ms'))}, stddev {_ms(node.get('latency_stddev_ms'))}"
             if node.get("latency_avg_ms") is not None else "",
             f"failed transactions: {node.get('failed')}" if node.get("failed") else ""]
    proof = node.get("proof")
    if isinstance(proof, dict):
        parts.append("books prove (balance = opening + Σ entries)" if proof.get("ok")
                     else f"books do NOT prove: {proof.get('error') or proof}")
    return "; ".join(p for p in parts if p)


def _tps_of(results: dict, *path):
    node = results
    for key in path:
        node = (node or {}).get(key)
    if not isinstance(node, dict) or "error" in node or node.get("tps") is None:
        return None
    return node["tps"]


def build_rows(results: dict) -> list[dict]:
    rows: list[dict] = []
    scale = results.get("sizes", {}).get("pgbench_scale")
    ref = _tps_of(results, "pgbench", "8")

    def row(key, figure, value="", p50=None, p99=None, ratio=None, target="", met=None, note=""):
        rows.append({"key": key, "figure": figure, "value": value, "p50_ms": p50, "p99_ms": p99,
                     "ratio_to_reference": ratio, "target": target, "met": met, "note": note})

    # 1. the reference
    for clients in ("1", "8"):
        node = results.get("pgbench", {}).get(clients)
        label = f"pgbench TPC-B (scale {scale}), {clients} client{'s' if clients != '1' else ''}"
        if clients == "8":
            label += " — reference"
        if not node or "error" in node:
            row(f"pgbench_{clients}", label, NA, note=(node or {}).get("error", ""))
        else:
            tps = node["tps"]
            row(f"pgbench_{clients}", label, f"{_num(tps)} tps", ratio=tps / ref if ref else None,
                note=f"latency avg {node.get('latency_avg_ms')} ms")

    # 1b. the plain-SQL ledger, same cluster, same rounds
    sql_payment = _tps_of(results, "reference", "payment")
    for script, figure in SQL_TITLES.items():
        node = (results.get("reference") or {}).get(script)
        key = f"reference_{script}_8"
        if not node or "error" in node:
            row(key, figure, NA, note=(node or {}).get("error", ""))
            continue
        row(key, figure, f"{_num(node['tps'])} tps", p50=node.get("p50_ms"), p99=node.get("p99_ms"),
            ratio=node["tps"] / ref if ref else None, note=_sql_note(node, script))

    # 2–3. payments through the service layer
    cold8 = _tps_of(results, "payments", "cold", "8")
    for scenario, title in TITLES.items():
        unit = "movements/s" if scenario == "hold_release" else "tps"
        for workers in ("1", "8"):
            node = (results.get("payments", {}).get(scenario) or {}).get(workers)
            figure = f"{title}, {workers} worker{'s' if workers != '1' else ''}"
            key = f"payments_{scenario}_{workers}"
            if not node or "error" in node:
                row(key, figure, NA, note=(node or {}).get("error", ""))
                continue
            tps, target, met = node["tps"], "", None
            if workers == "8" and scenario == "cold":
                target, met = _share_target(tps, ref, COLD_VS_TPCB, "TPC-B@8")
            elif scenario == "cold_python":
                target = f"before (cold@{workers} is {_pct(tps_cold / tps)} of it)" if (
                    tps_cold := _tps_of(results, "payments", "cold", workers)) and tps else ""
            elif workers == "8":
                target, met = _share_target(tps, cold8, HOT_VS_COLD, "cold@8")
            row(key, figure, f"{_num(tps)} {unit}", p50=node.get("p50_ms"), p99=node.get("p99_ms"),
                ratio=tps / ref if ref else None, target=target, met=met, note=_errors_note(node))
    share = cold8 / sql_payment if cold8 is not None and sql_payment else None
    row("cold_vs_reference_payment", "Cold payments@8 against the plain-SQL 3-leg payment@8",
        NA if share is None else f"{_pct(share)} of it", target="above it (> 100 %)",
        met=None if share is None else share > COLD_VS_SQL_PAYMENT)

    # 4. the API
    node = results.get("api")
    figure = "Signed API POST /api/v1/payments via gunicorn, 8 clients"
    if not node or "error" in node:
        row("api_8", figure, NA, note=(node or {}).get("error", ""))
    else:
        tps = node["tps"]
        target, met = _share_target(tps, ref, API_VS_TPCB, "TPC-B@8")
        row("api_8", figure + f" ({node.get('gunicorn_workers')} gunicorn workers)", f"{_num(tps)} tps",
            p50=node.get("p50_ms"), p99=node.get("p99_ms"), ratio=tps / ref if ref else None,
            target=target, met=met, note=_errors_note(node))

    # 4b. the API in batches: the figure is payments booked per second, not requests
    node = results.get("api_batch")
    if node and "error" not in node:
        size = node.get("batch") or 100
        booked = node["tps"] * size
        target, met = _share_target(booked, ref, API_BATCH_VS_TPCB, "TPC-B@8")
        row("api_batch_8", f"Signed API POST /api/v1/payments/batch of {size}, 8 clients: payments booked per second",
            f"{_num(booked)} payments/s", p50=node.get("p50_ms"), p99=node.get("p99_ms"),
            ratio=booked / ref if ref else None, target=target, met=met, note=_errors_note(node))
    elif node:
        row("api_batch_8", "Signed API batch of 100, payments booked per second", NA, note=node.get("error", ""))

    # 5. latency spread and surfaced concurrency errors at 8 workers
    spreads, worst = [], None
    for scenario in TITLES:
        node = (results.get("payments", {}).get(scenario) or {}).get("8")
        if node and "error" not in node and node.get("p50_ms"):
            spread = node["p99_ms"] / node["p50_ms"]
            name = {"hold_release": "hold + release", "cold_python": "cold by Python"}.get(scenario, scenario)
            spreads.append(f"{name} {spread:.1f}×")
            worst = spread if worst is None else max(worst, spread)
    row("p99_over_p50", "p99 / p50 at 8 workers", ", ".join(spreads) or NA, target=f"≤ {P99_OVER_P50:.0f}×",
        met=(worst <= P99_OVER_P50) if worst is not None else None)
    surfaced, others = _concurrency_errors(results)
    row("deadlocks", "Deadlocks + serialization failures surfaced to callers", str(surfaced), target="0",
        met=surfaced == 0)
    row("other_errors", "Other errors surfaced to callers", ", ".join(f"{k}: {v}" for k, v in others.items()) or "0",
        target="0", met=not others)

    # 6. statement import and end of day
    node = results.get("import")
    lines = results.get("sizes", {}).get("statement_lines")
    if not node or "error" in node:
        row("import_seconds", f"Statement import, {lines:,} lines", NA, note=(node or {}).get("error", "")[:300])
        row("import_memory", "Statement import, peak memory", NA)
    else:
        row("import_seconds", f"Statement import, {node['lines']:,} lines", f"{node['seconds']:.1f} s",
            target=f"< {IMPORT_SECONDS:.0f} s", met=node["seconds"] < IMPORT_SECONDS,
            note=f"imported {node['result'].get('imported')}, matched {node['result'].get('matched')}, "
                 f"{node.get('file_mb')} MB file")
        row("import_memory", "Statement import, peak memory (process RSS)", f"{node['peak_rss_mb']:.0f} MB",
            target=f"< {IMPORT_MB:.0f} MB", met=node["peak_rss_mb"] < IMPORT_MB,
            note=f"growth during the import {node.get('rss_growth_mb')} MB")
    node = results.get("import_xlsx")
    if not node or "error" in node:
        row("import_xlsx_seconds", f"Statement import from .xlsx, {lines:,} lines", NA,
            note=(node or {}).get("error", "")[:300])
        row("import_xlsx_memory", "Statement import from .xlsx, peak memory", NA)
    else:
        row("import_xlsx_seconds", f"Statement import from .xlsx, {node['lines']:,} lines", f"{node['seconds']:.1f} s",
            target=f"< {IMPORT_XLSX_SECONDS:.0f} s", met=node["seconds"] < IMPORT_XLSX_SECONDS,
            note=f"imported {node['result'].get('imported')}, matched {node['result'].get('matched')}, "
                 f"{node.get('file_mb')} MB workbook")
        row("import_xlsx_memory", "Statement import from .xlsx, peak memory (process RSS)",
            f"{node['peak_rss_mb']:.0f} MB", target=f"< {IMPORT_XLSX_MB:.0f} MB",
            met=node["peak_rss_mb"] < IMPORT_XLSX_MB, note=f"growth during the import {node.get('rss_growth_mb')} MB")
    node = results.get("eod")
    orders = results.get("sizes", {}).get("eod_orders")
    if not node or "error" in node:
        row("eod_seconds", f"End of day, {orders:,} orders vs {orders:,} entries", NA,
            note=(node or {}).get("error", "")[:300])
    else:
        row("eod_seconds", f"End of day, {node['orders']:,} orders vs {node['orders']:,} entries",
            f"{node['eod_seconds']:.1f} s", target=f"< {EOD_SECONDS:.0f} s", met=node["eod_seconds"] < EOD_SECONDS,
            note=f"differences found as planted: {node.get('counts_ok')}; rerun {node.get('rerun_seconds')} s")

    # 7. the loaded merchant, proved again after everything the run booked
    load = results.get("load") or {}
    if load:
        row("load", "Loaded merchant", f"{load['members']:,} members, {load['postings']:,} postings",
            note=f"{load['entries']:,} entries, loaded and proved in {load['seconds']:.0f} s")
    proof = results.get("proof_after") or {}
    if proof:
        row("proof_after", "Total = sum of parts after the run (roll-up + proof)", "holds" if proof["ok"] else "BROKEN",
            target="holds", met=proof["ok"], note=f"{proof['seconds']:.1f} s over {proof['postings']:,} postings")
    return rows


def _errors_note(node) -> str:
    parts = [f"{kind}s {part['per_s']:,.1f}/s (p50 {_ms(part['p50_ms'])}, p99 {_ms(part['p99_ms'])})"
             for kind, part in (node.get("by_kind") or {}).items()]
    if node.get("cpu_serving_ms_per_call") is not None:
        parts.append(f"CPU per request: {node['cpu_serving_ms_per_call']:.1f} ms serving it (gunicorn workers and "
                     f"their PostgreSQL backends), {node.get('cpu_client_ms_per_call') or 0:.1f} ms in the client "
                     f"(signing, HTTP)")
    elif node.get("cpu_client_ms_per_call") is not None:
        cpu = f"CPU per call: {node['cpu_client_ms_per_call']:.1f} ms in Python"
        if node.get("cpu_server_ms_per_call") is not None:
            cpu += f" + {node['cpu_server_ms_per_call']:.1f} ms in PostgreSQL"
        parts.append(cpu)
    waits = node.get("waits")
    if waits:
        parts.append(f"backends on average: {waits['in_query']:.1f} in a statement (of which "
                     f"{waits['waiting_lock']:.1f} waiting for a row lock, {waits['waiting_wal']:.1f} for the WAL "
                     f"flush), {waits['in_client']:.1f} waiting for Python inside a transaction")
    errors = node.get("errors") or {}
    parts += [f"{k}: {v}" for k, v in errors.items()]
    return "; ".join(parts)


def _concurrency_errors(results) -> tuple[int, dict]:
    surfaced, others = 0, {}
    nodes = [n for s in (results.get("payments") or {}).values() for n in (s or {}).values()]
    nodes += [results.get("api"), results.get("api_batch")]
    for node in nodes:
        if not isinstance(node, dict):
            continue
        for kind, n in (node.get("errors") or {}).items():
            if kind in ("deadlock", "serialization_failure"):
                surfaced += n
            else:
                others[kind] = others.get(kind, 0) + n
    return surfaced, others


def markdown(results: dict, rows: list[dict]) -> str:
    m = results.get("machine", {})
    pg = results.get("postgres", {})
    lines = [
        f"Benchmark of {results.get('date', '?')} ({'quick' if results.get('quick') else 'full'} run): "
        f"{m.get('nproc')} cores, {m.get('memory_gb')} GB RAM, {m.get('platform', '')}; "
        f"PostgreSQL {pg.get('server_version', '?')} "
        f"(fsync={pg.get('fsync')}, synchronous_commit={pg.get('synchronous_commit')}, "
        f"full_page_writes={pg.get('full_page_writes')}, shared_buffers={pg.get('shared_buffers')}); "
        f"{_timing(results)}; load average (1/5/15 min) "
        f"{_load(m.get('load_average_start'))} at the start, {_load(m.get('load_average_end'))} at the end.",
        "",
        "| Figure | Value | p50 | p99 | Ratio to TPC-B@8 | Target | Met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append("| " + " | ".join([
            r["figure"], r["value"], _ms(r["p50_ms"]), _ms(r["p99_ms"]),
            "" if r["ratio_to_reference"] is None else f"{r['ratio_to_reference']:.2f}",
            r["target"], _met(r["met"]),
        ]) + " |")
    notes = [f"- {r['figure']}: {r['note']}" for r in rows if r.get("note")]
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines)


def write_json(path: str, results: dict, rows: list[dict]):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({**results, "rows": rows}, fh, indent=2, ensure_ascii=False, default=str)
        fh.write("\n")
