"""The PII leak scanner (tests/pii_scan.py) finds raw identity, phone and card numbers in what
the app emits, in the forms they are usually reformatted to, and stays quiet about masked
forms and short values. Each test uses its own Scanner, so nothing planted here reaches the
session's own scan; the last tests check that the session's hooks are really live."""
import io
import json
import logging
from types import SimpleNamespace

import pytest
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory

from core.masking import mask_card, mask_id_number, mask_phone
from tests import factories as f
from tests.pii_scan import (
    PiiScanPlugin,
    Scanner,
    _LogCapture,
    mask,
    normalise,
    request_values,
    response_text,
)

PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"
CARD = "6222020200112233445"


def scanner_with_values():
    scanner = Scanner()
    scanner.add_value(PHONE, "phone", "test")
    scanner.add_value(ID_NUMBER, "identity number", "test")
    scanner.add_value(CARD, "card number", "test")
    return scanner


def leaked(scanner) -> set[str]:
    return {leak.kind for leak in scanner.leaks()}


def test_a_raw_phone_in_a_log_line_is_found_and_reported_masked():
    # given a logger whose lines the scanner reads
    scanner = scanner_with_values()
    logger = logging.getLogger("tests.pii_scan.planted")
    logger.propagate = False  # keep the planted line away from the session's own scan
    logger.setLevel(logging.DEBUG)
    handler = _LogCapture(scanner, lambda: "unit")
    logger.addHandler(handler)
    try:
        # when the app logs a raw phone
        logger.info("member %s changed phone to %s", "u-1", PHONE)
    finally:
        logger.removeHandler(handler)

    # then it is a leak, reported without the raw value
    leaks = scanner.leaks()
    assert [leak.kind for leak in leaks] == ["phone"]
    assert "log tests.pii_scan.planted INFO" in leaks[0].places[0]
    assert PHONE not in str(leaks[0]) and leaks[0].value == mask(PHONE) == "139******78"


def test_a_raw_card_in_a_csv_export_is_found_even_grouped_with_spaces():
    # given a CSV attachment with the card number grouped in fours
    scanner = scanner_with_values()
    response = HttpResponse("member,card\r\nu-1,6222 0202 0011 2233 445\r\n", content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="cards.csv"'

    # when the scanner reads the export
    scanner.add_text(response_text(response), "GET /export.csv")

    # then the card number is a leak
    assert leaked(scanner) == {"card number"}


def test_a_raw_identity_number_in_an_xlsx_export_is_found():
    from openpyxl import Workbook

    # given an XLSX workbook with an identity number in a cell
    book = Workbook()
    book.active.append(["u-1", ID_NUMBER.lower()])
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    scanner = scanner_with_values()

    # when the scanner reads the export
    scanner.add_text(response_text(response), "GET /export.xlsx")

    # then the identity number is a leak (its final X in either case)
    assert leaked(scanner) == {"identity number"}


@pytest.mark.parametrize("shown", ["+86 139 1234 5678", "+8613912345678", "139-1234-5678", "139 1234 5678",
                                   "tel:13912345678"])
def test_a_raw_phone_in_a_json_answer_is_found_in_its_common_forms(shown):
    # given an API answer carrying the phone in some common form
    scanner = scanner_with_values()
    response = JsonResponse({"user_id": "u-1", "phone": shown})

    # when the scanner reads it
    scanner.add_text(response_text(response), "POST /api/v1/members")

    # then the phone is a leak
    assert leaked(scanner) == {"phone"}


def test_masked_forms_are_not_reported():
    # given an answer, a page and a log line with only the masked forms
    scanner = scanner_with_values()
    masked = {"phone": mask_phone(PHONE), "id_number": mask_id_number(ID_NUMBER), "card": mask_card(CARD)}
    scanner.add_text(response_text(JsonResponse(masked)), "json")
    scanner.add_text(f"<td>{masked['card']}</td><td>{masked['phone']}</td>", "html")
    scanner.add_text(f"member u-1 id {masked['id_number']}", "log")

    # then nothing leaks
    assert scanner.leaks() == []
    assert scanner.texts == 3


def test_short_and_degenerate_values_are_ignored():
    # given values too short or too uniform to identify anybody
    scanner = Scanner()

    # then they are not searched for at all
    assert scanner.add_value("1234567", "phone") is False  # 7 characters
    assert scanner.add_value("00000000000", "phone") is False  # one distinct character
    assert scanner.add_value("", "phone") is False
    assert scanner.add_value(PHONE, "phone") is True
    scanner.add_text("order 1234567 of 00000000000", "log")
    assert scanner.leaks() == []


def test_a_value_stored_after_the_text_was_seen_is_still_found():
    # given a text seen before its value was ever stored (digit runs are kept, not texts)
    scanner = Scanner()
    scanner.add_text(f"an error echoing {CARD}", "log")

    # when the value is stored later in the run
    scanner.add_value(CARD, "card number")

    # then it is still a leak
    assert leaked(scanner) == {"card number"}


def test_an_exemption_needs_a_matching_place():
    # given an exemption for one page only
    scanner = scanner_with_values()
    scanner.exempt = [(r"^GET /reveal/", "shown on purpose to an authorised role")]
    scanner.add_text(PHONE, "GET /reveal/1 -> 200")
    assert scanner.leaks() == []

    # then the same value anywhere else is still a leak
    scanner.add_text(PHONE, "GET /members/1 -> 200")
    assert [leak.places for leak in scanner.leaks()] == [["GET /members/1 -> 200"]]


def test_binary_and_non_text_answers_are_skipped():
    assert response_text(HttpResponse(b"\x89PNG" + PHONE.encode(), content_type="image/png")) is None
    assert response_text(JsonResponse({"a": PHONE})) == json.dumps({"a": PHONE})


def test_pii_named_input_fields_are_collected_as_values():
    # given request bodies a client sends
    rf = RequestFactory()
    member = rf.post("/api/v1/members", data=json.dumps({"user_id": "u", "phone": PHONE, "id_number": ID_NUMBER}),
                     content_type="application/json")
    card = rf.post("/api/v1/members/u/bank-cards", data=json.dumps({"account_number": CARD}),
                   content_type="application/json")
    channel = rf.post("/api/v1/channel/notifications", data=json.dumps({"account_number": "62284800000000123"}),
                      content_type="application/json")

    # then PII fields count as raw values; the supervision account number does not
    assert sorted(request_values(member)) == sorted([(PHONE, "phone"), (ID_NUMBER, "identity number")])
    assert request_values(card) == [(CARD, "card number")]
    assert request_values(channel) == []


def test_a_leak_fails_the_session_even_when_every_test_passed():
    # given a plugin (not installed) whose scanner saw a raw value
    plugin = PiiScanPlugin()
    plugin.scanner.add_value(PHONE, "phone")
    plugin.scanner.add_text(f"phone {PHONE}", "log")
    session = SimpleNamespace(exitstatus=0)

    # when the session finishes
    plugin.pytest_sessionfinish(session, 0)

    # then the run fails
    assert session.exitstatus == 1
    assert normalise(PHONE) in plugin.scanner.values and len(plugin.leaks) == 1


# --- the session's own scan is live -----------------------------------------------------------

@pytest.fixture
def session_scan(request):
    plugin = request.config.pluginmanager.get_plugin("pii-scan")
    assert plugin is not None, "tests/pii_scan.py is not registered (tests/conftest.py pytest_plugins)"
    return plugin.scanner


@pytest.mark.django_db
def test_values_stored_in_encrypted_fields_are_collected(session_scan):
    # when a member and a bank card are stored
    merchant = f.active_merchant()
    member = f.member(merchant, phone="15987654321", id_number="370102198501230712")
    from merchants.services.members import bank_card_add

    bank_card_add(member=member, actor=f.ops(), account_number="6217000011112222333",
                           account_name=member.name, bank_name="Bank")

    # then the session's scan knows their raw values
    for value in ("15987654321", "370102198501230712", "6217000011112222333"):
        assert value in session_scan.values


@pytest.mark.django_db
def test_responses_and_log_lines_are_read(session_scan, client):
    # when the app answers a request and logs a line
    texts = session_scan.texts
    client.get("/admin/login/")
    logging.getLogger("jianguan.tests").debug("a harmless line")

    # then the session's scan read both
    assert session_scan.texts >= texts + 2


def test_export_files_are_read(session_scan):
    from backoffice import exports
    from backoffice.selectors import performance as perf

    # when an export file is rendered (as rm_performance --output writes it)
    texts = session_scan.texts
    render, _content_type, _extension = exports.FORMATS["json"]
    render(perf.parse_period("2026-10"), [])

    # then the session's scan read it
    assert session_scan.texts == texts + 1


@pytest.mark.django_db
def test_audit_records_are_read_one_by_one_and_in_bulk(session_scan):
    from core.audit import audit_record, audit_record_many
    from merchants.models import Merchant

    merchant = f.active_merchant()
    # when one audit record and a bulk of two are appended to the chain
    texts = session_scan.texts
    audit_record(actor=None, obj=merchant, action="note", reason="one")
    audit_record_many(actor=None, records=[{"model": Merchant, "object_id": merchant.pk, "action": "note",
                                            "reason": reason} for reason in ("two", "three")])
    # then the session's scan read each of them
    assert session_scan.texts == texts + 3


@pytest.mark.django_db
def test_the_database_holds_only_ciphertext_and_masks():
    from django.db import connection

    from merchants.models import BankCard, Member
    from merchants.services.members import bank_card_add

    # given a member with an identity number, a phone and a bank card
    member = f.member(f.active_merchant(), phone="15987654321", id_number="370102198501230712")
    card = bank_card_add(member=member, actor=f.ops(), account_number="6217000011112222333",
                                  account_name=member.name, bank_name="Bank")

    # when the rows are read behind the app's back
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Member._meta.db_table} WHERE id = %s", [member.pk])
        member_row = " ".join(str(v) for v in cursor.fetchone())
        cursor.execute(f"SELECT * FROM {BankCard._meta.db_table} WHERE id = %s", [card.pk])
        card_row = " ".join(str(v) for v in cursor.fetchone())

    # then no raw value is in them, only Fernet tokens and the masked forms
    scanner = Scanner()
    for value in ("15987654321", "370102198501230712", "6217000011112222333"):
        scanner.add_value(value, "pii")
    scanner.add_text(member_row + " " + card_row, "database rows")
    assert scanner.leaks() == []
    assert "159****4321" in member_row and "370***********0712" in member_row and "6217***********2333" in card_row
    assert member_row.count("gAAAAA") == 2 and card_row.count("gAAAAA") == 1
    # and the app still reads them back
    member.refresh_from_db()
    assert (member.phone, BankCard.objects.get(pk=card.pk).account_number) == ("15987654321", "6217000011112222333")

# --- leaks the scan found, fixed ------------------------------------------------------------

@pytest.mark.parametrize("typed", ["13912345678", "139 1234 5678", "+86 139-1234-5678"])
@pytest.mark.django_db
def test_the_complaint_look_up_shows_a_typed_phone_masked(client, typed):
    from core.models import AuditEvent

    # when a risk officer looks a phone up (the page used to echo it raw in the box and message)
    client.force_login(f.risk())
    html = client.get("/backoffice/complaints/", {"q": typed}).content.decode()

    # then the page and the audit trail show it masked only
    scanner = scanner_with_values()
    scanner.add_text(html, "page")
    scanner.add_text(json.dumps(AuditEvent.objects.filter(action="complaint_lookup").latest("id").data), "audit")
    assert scanner.leaks() == []
    assert "139****5678" in html


@pytest.mark.django_db
def test_a_statement_line_shows_the_payers_card_masked(client):
    from django.urls import reverse

    from reconciliation.models import StatementLine
    from reconciliation.services.imports import statement_import
    from tests.reconciliation.builders import english, verified_card

    # given a bank statement line paid from a member's bank card (the page used to show it raw)
    merchant = f.active_merchant()
    member = f.member(merchant)
    verified_card(member, number="6217000099998888777")
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english([
        ("PII-R9", "2026-11-24", "80.00", member.name, "6217000099998888777", "ICBC", "no code", "")]))
    line = StatementLine.objects.get(bank_reference="PII-R9")

    # when operations open it
    client.force_login(f.ops())
    page = client.get(reverse("admin:reconciliation_statementline_change", args=[line.pk])).content.decode()

    # then the card number is masked
    scanner = Scanner()
    scanner.add_value("6217000099998888777", "card number")
    scanner.add_text(page, "page")
    assert scanner.leaks() == []
    assert "6217***********8777" in page

# --- end to end: a leaking run fails --------------------------------------------------------

def test_a_run_that_leaks_fails_and_names_the_value_masked(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    # given a test run (in its own process, so nothing reaches this session's scan) in which a
    # phone is stored in its encrypted field and then logged grouped with spaces; its tests pass
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "test_inner.py").write_text(
        "import logging\n"
        "from merchants.models import Member\n\n"
        "def test_logs_a_phone():\n"
        "    Member._meta.get_field('phone').get_prep_value('15911112222')\n"
        "    logging.getLogger('merchants.inner').info('changed phone to 159 1111 2222')\n"
        "    logging.getLogger('merchants.inner').info('and masked: 159****2222')\n")
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}

    # when it runs with the plugin
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.pii_scan",
                          "--ds", "config.settings.test", str(tmp_path / "test_inner.py")],
                         check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    # then the run fails, naming the value masked and where it was seen, never raw
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "1 passed" in out and "PII leak scan: FAILED" in out
    assert "phone 159******22 (from merchants.Member.phone)" in out and "log merchants.inner INFO" in out
    assert "15911112222" not in out and "1111 2222" not in out
