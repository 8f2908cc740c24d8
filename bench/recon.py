"""Statement import and end of day, through the reconciliation app's own benchmark helpers
(`bench.recon_timers`: they load their data set-based and time the reconciliation app's real
services).

They run in a fresh process, the import first, so the peak memory reported for the import is
the import's (plus Django's own footprint), not whatever the benchmark process holds."""
import multiprocessing
import os
import traceback


def available() -> str | None:
    """None when bench.recon_timers offers what the benchmark calls, else why not."""
    try:
        from bench import recon_timers
    except ImportError as error:
        return f"bench.recon_timers is missing ({error})"
    missing = [name for name in ("time_statement_import", "time_eod") if not hasattr(recon_timers, name)]
    return f"bench.recon_timers has no {', '.join(missing)}" if missing else None


def run_both(*, lines: int, orders: int, env: dict, timeout: float = 3600) -> tuple[dict, dict]:
    """The import first (so the process's peak memory is the import's), then end of day, in
    one fresh process. Each result is the helper's dict, or {"error": ...}."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    process = ctx.Process(target=_child, args=(lines, orders, env, results), daemon=True)
    process.start()
    try:
        return results.get(timeout=timeout)
    finally:
        process.join(timeout=60)
        if process.is_alive():
            process.terminate()


def run_xlsx(*, lines: int, env: dict, timeout: float = 3600) -> dict:
    """The same statement import from an .xlsx workbook, in a fresh process of its own (so its
    peak memory is the Excel import's alone)."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    process = ctx.Process(target=_xlsx_child, args=(lines, env, results), daemon=True)
    process.start()
    try:
        return results.get(timeout=timeout)
    finally:
        process.join(timeout=60)
        if process.is_alive():
            process.terminate()


def _xlsx_child(lines: int, env: dict, results):
    try:
        os.environ.update(env)
        import django

        django.setup()
        from bench import recon_timers

        results.put(recon_timers.time_statement_import(lines=lines, file_format="xlsx"))
    except BaseException:  # noqa: BLE001 - the parent reports it in the table
        results.put({"error": _last_line(traceback.format_exc()), "traceback": traceback.format_exc(limit=8)})


def _child(lines: int, orders: int, env: dict, results):
    out = []
    try:
        os.environ.update(env)
        import django

        django.setup()
        from bench import recon_timers
    except BaseException:  # noqa: BLE001 - the parent reports it in the table
        error = {"error": _last_line(traceback.format_exc()), "traceback": traceback.format_exc(limit=8)}
        results.put((error, error))
        return
    for function, kwargs in (("time_statement_import", {"lines": lines}), ("time_eod", {"orders": orders})):
        try:
            out.append(getattr(recon_timers, function)(**kwargs))
        except BaseException:  # noqa: BLE001
            out.append({"error": _last_line(traceback.format_exc()), "traceback": traceback.format_exc(limit=8)})
    results.put(tuple(out))


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "unknown error"
