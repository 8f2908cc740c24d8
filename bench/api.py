"""The signed API end to end: `POST /api/v1/payments` (and, with `batch=N`, `POST
/api/v1/payments/batch` of N payments per request) through gunicorn.

gunicorn serves the project's WSGI application with 2 × cores + 1 sync workers on 127.0.0.1
(never anything else); client processes sign each request with the project's own client
(`jianguan_client.JianguanClient`: X-App-Id, X-Timestamp, X-Nonce, X-Signature and an
Idempotency-Key) and pay between random members with a platform fee, back to back, for the
measurement window. Every request is authenticated, nonce-checked, idempotency-claimed,
parsed, booked and rendered exactly as a platform's would be."""
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from .cluster import free_port
from .workers import START_DELAY, Measurement, measure

WARM_UP_REQUESTS = 3


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str
    workers: int
    log_path: str

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def gunicorn_workers() -> int:
    return 2 * (os.cpu_count() or 1) + 1


def start_gunicorn(env: dict, *, log_path: str, timeout: float = 120) -> Server:
    port = free_port()
    workers = gunicorn_workers()
    cmd = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning", "--timeout", "120",
           "--preload"]  # Django set up once in the master, then forked: less memory, faster start
    log = open(log_path, "wb")
    process = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                               cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    server = Server(process=process, base_url=f"http://127.0.0.1:{port}", workers=workers, log_path=log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}); see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            # Any answer from Django (the JSON 404 of an unknown API path) means it is serving.
            urllib.request.urlopen(f"{server.base_url}/api/v1/ready", timeout=10)
        except urllib.error.HTTPError:
            return server
        except OSError:
            time.sleep(0.3)
            continue
        return server
    server.stop()
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s; see {log_path}")


def run_clients(*, base_url: str, app_id: str, secret: str, user_ids: list[str], clients: int, seconds: float,
                tag: str, on_start=None, batch: int = 0) -> Measurement:
    """`on_start()` is called when every client has warmed up, just before the window opens.
    `batch`: each call is one batch request of that many payments (the measurement counts
    requests; payments booked = calls × batch)."""
    ctx = multiprocessing.get_context("spawn")
    ready, results = ctx.Queue(), ctx.Queue()
    start_at = ctx.Value("d", 0.0)
    go = ctx.Event()
    conf = {"base_url": base_url, "app_id": app_id, "secret": secret, "user_ids": user_ids, "seconds": seconds,
            "tag": tag, "batch": batch}
    procs = [ctx.Process(target=client_process, args=(conf, i, ready, go, start_at, results), daemon=True)
             for i in range(clients)]
    for p in procs:
        p.start()
    try:
        for _ in procs:
            message = ready.get(timeout=300)
            if message != "ready":
                raise RuntimeError(f"an API client failed to start: {message}")
        if on_start is not None:
            on_start()
        start_at.value = time.time() + START_DELAY
        go.set()
        measurement = Measurement(seconds=seconds, workers=clients)
        for _ in procs:
            measurement.merge(results.get(timeout=seconds + 300))
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
    return measurement


def client_process(conf: dict, index: int, ready, go, start_at, results):
    """One platform client: no Django here, only the project's HTTP client."""
    try:
        from jianguan_client import JianguanClient, JianguanError

        client = JianguanClient(conf["base_url"], app_id=conf["app_id"], secret=conf["secret"], timeout=120)
        rng = random.Random(f"{conf['tag']}-{index}")
        users = conf["user_ids"]
        prefix = f"{conf['tag']}-{index}-"
        counter = iter(range(10**9))

        def payment_body():
            payer = rng.choice(users)
            payee = rng.choice(users)
            while payee == payer:
                payee = rng.choice(users)
            cents = rng.randint(1000, 9999)
            fee = max(10, round(cents / 100))
            return {"payer_user_id": payer, "payee_user_id": payee, "amount": f"{cents // 100}.{cents % 100:02d}",
                    "order_no": f"{prefix}{next(counter)}", "mode": "direct",
                    "platform_fee": f"{fee // 100}.{fee % 100:02d}", "description": "bench"}

        def one_payment():
            body = payment_body()
            payment = client.create_payment(**body, idempotency_key=body["order_no"])
            if client.last_response.status_code != 201 or payment.get("status") != "settled":
                raise JianguanError(client.last_response.status_code, "unexpected_answer", str(payment)[:200])

        def one_batch():
            items = [payment_body() for _ in range(conf["batch"])]
            answer = client.create_payments_batch(items, idempotency_key=f"{items[0]['order_no']}-batch")
            if client.last_response.status_code != 200 or answer.get("booked") != len(items):
                failed = [r for r in answer.get("results", []) if r.get("error")]
                raise JianguanError(client.last_response.status_code, "unexpected_answer", str(failed[:1])[:200])

        one = one_batch if conf.get("batch") else one_payment

        for _ in range(WARM_UP_REQUESTS):
            one()
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which stops the run
        ready.put(f"{type(error).__name__}: {error}")
        return
    ready.put("ready")
    go.wait()
    before = time.process_time()
    result = measure(one, start_at.value, conf["seconds"])
    result["cpu_client_s"] = time.process_time() - before
    results.put(result)
