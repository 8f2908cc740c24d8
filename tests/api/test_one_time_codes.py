"""One-time codes: where the merchant asks for them, a member confirms each withdrawal with a code
texted to their phone; the code is short-lived, single-use, attempt-limited and never kept in clear."""
import logging
import re
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest
from django.utils import timezone

from core.models import AuditEvent
from jianguan_client import JianguanError
from ledger.models import Withdrawal
from merchants import sms
from merchants.models import Challenge, Member, Merchant

from .conftest import add_member, fund

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_outbox():
    sms.OutboxBackend.outbox.clear()
    yield
    sms.OutboxBackend.outbox.clear()


@pytest.fixture
def shop(platform):
    Merchant.objects.filter(pk=platform.merchant.pk).update(otp_for_withdrawals=True)
    add_member(platform, "seller")
    fund(platform, "seller", "500.00")
    card = platform.client.add_bank_card("seller", account_number="6222020200112233445",
                                         account_name="Member seller", bank_name="ICBC")
    platform.card_id = card["id"]
    return platform


def withdraw(shop, order_no="W-1", amount="100.00", key=None):
    return shop.client.create_withdrawal(user_id="seller", amount=amount, bank_card_id=shop.card_id,
                                         order_no=order_no, idempotency_key=key)


def texted_code() -> str:
    phone, text = sms.OutboxBackend.outbox[-1]
    assert phone == "13812345678"
    return re.search(r"(?<!\d)(\d{6})(?!\d)", text).group(1)


def refused(call):
    with pytest.raises(JianguanError) as err:
        call()
    return err.value.status, err.value.code, err.value.details


def available(shop) -> Decimal:
    return Decimal(shop.client.get_balance("seller")["available"])


def test_a_withdrawal_waits_for_the_members_code_and_the_code_books_it(shop):
    # when the platform asks for a withdrawal
    challenge = withdraw(shop)
    # then it is answered 202 with a challenge, nothing is booked, and the member got a code
    assert shop.client.last_response.status_code == 202
    assert challenge["status"] == "pending" and challenge["purpose"] == "withdrawal"
    assert challenge["sent_to"] == "138****5678" and challenge["user_id"] == "seller"
    assert Withdrawal.objects.count() == 0 and available(shop) == Decimal("500.00")
    # when the member's code is confirmed
    withdrawal = shop.client.confirm_challenge(challenge["challenge_id"], texted_code())
    # then the withdrawal is booked, once
    assert shop.client.last_response.status_code == 201
    assert withdrawal["status"] == "approved" and withdrawal["order_no"] == "W-1"
    assert available(shop) == Decimal("400.00")
    assert Challenge.objects.get().status == Challenge.Status.CONFIRMED
    assert Challenge.objects.get().result_id == withdrawal["id"]


def test_a_code_is_single_use(shop):
    challenge = withdraw(shop)
    code = texted_code()
    shop.client.confirm_challenge(challenge["challenge_id"], code)
    # a second confirmation (another key) is refused and books nothing more
    status, error, details = refused(lambda: shop.client.confirm_challenge(challenge["challenge_id"], code))
    assert (status, error, details["reason"]) == (409, "challenge_closed", "used")
    assert Withdrawal.objects.count() == 1


def test_the_same_confirmation_replays_under_its_idempotency_key(shop):
    challenge = withdraw(shop)
    code = texted_code()
    first = shop.client.confirm_challenge(challenge["challenge_id"], code, idempotency_key="confirm-1")
    again = shop.client.confirm_challenge(challenge["challenge_id"], code, idempotency_key="confirm-1")
    assert again == first and shop.client.last_response.headers.get("Idempotent-Replayed") == "true"
    assert Withdrawal.objects.count() == 1


def test_a_wrong_code_is_counted_and_the_last_allowed_one_locks_the_challenge(shop, settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "OTP_MAX_ATTEMPTS": 3}
    challenge = withdraw(shop)
    good = texted_code()
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    # the first wrong codes say how many tries are left
    assert refused(lambda: shop.client.confirm_challenge(challenge["challenge_id"], wrong)) == (
        400, "invalid_code", {"attempts_left": 2})
    assert refused(lambda: shop.client.confirm_challenge(challenge["challenge_id"], wrong)) == (
        400, "invalid_code", {"attempts_left": 1})
    assert refused(lambda: shop.client.confirm_challenge(challenge["challenge_id"], wrong)) == (
        400, "invalid_code", {"attempts_left": 0})
    # then even the right code is refused: the challenge is locked, nothing booked
    status, error, details = refused(lambda: shop.client.confirm_challenge(challenge["challenge_id"], good))
    assert (status, error, details["reason"]) == (409, "challenge_closed", "locked")
    assert Withdrawal.objects.count() == 0 and available(shop) == Decimal("500.00")
    assert Challenge.objects.get().attempts == 3


def test_an_expired_code_is_refused(shop):
    challenge = withdraw(shop)
    code = texted_code()
    Challenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    status, error, details = refused(lambda: shop.client.confirm_challenge(challenge["challenge_id"], code))
    assert (status, error, details["reason"]) == (409, "challenge_closed", "expired")
    assert Withdrawal.objects.count() == 0


def test_a_refused_booking_leaves_the_challenge_open_until_it_expires(shop):
    # given a challenge for more than the member will have
    challenge = withdraw(shop, amount="400.00")
    code = texted_code()
    # and the member spends first: another (confirmed) withdrawal of 200
    other = withdraw(shop, order_no="W-2", amount="200.00")
    shop.client.confirm_challenge(other["challenge_id"], texted_code())
    # when the first is confirmed, the booking is refused
    assert refused(lambda: shop.client.confirm_challenge(challenge["challenge_id"], code))[:2] == (
        422, "insufficient_funds")
    # then the challenge is still pending (the confirmation rolled back with the booking)
    assert Challenge.objects.get(token=challenge["challenge_id"]).status == Challenge.Status.PENDING
    fund(shop, "seller", "200.00")
    assert shop.client.confirm_challenge(challenge["challenge_id"], code)["amount"] == "400.00"


def test_what_would_be_refused_is_refused_before_any_code_is_sent(shop):
    Member.objects.filter(merchant=shop.merchant, user_id="seller").update(status=Member.Status.FROZEN)
    assert refused(lambda: withdraw(shop))[:2] == (403, "member_frozen")
    assert sms.OutboxBackend.outbox == [] and Challenge.objects.count() == 0


def test_a_member_without_a_phone_cannot_be_challenged(shop):
    Member.objects.filter(merchant=shop.merchant, user_id="seller").update(phone="", phone_masked="")
    status, error, details = refused(lambda: withdraw(shop))
    assert (status, error, details["reason"]) == (409, "invalid_state", "no_phone")
    assert Challenge.objects.count() == 0


def test_a_booked_order_is_not_challenged_again(shop):
    challenge = withdraw(shop)
    first = shop.client.confirm_challenge(challenge["challenge_id"], texted_code())
    sent = len(sms.OutboxBackend.outbox)
    # the same order again replays the withdrawal (200), without a new code
    assert withdraw(shop) == first and shop.client.last_response.status_code == 200
    assert len(sms.OutboxBackend.outbox) == sent


def test_another_merchants_challenge_is_not_found(shop, other_platform):
    challenge = withdraw(shop)
    status, error, _ = refused(lambda: other_platform.client.confirm_challenge(challenge["challenge_id"],
                                                                               texted_code()))
    assert (status, error) == (404, "not_found")


def test_the_code_is_never_stored_logged_audited_or_answered(shop, caplog):
    caplog.set_level(logging.DEBUG)
    challenge = withdraw(shop)
    code = texted_code()
    answers = [shop.client.last_response.text]
    shop.client.confirm_challenge(challenge["challenge_id"], code)
    answers.append(shop.client.last_response.text)
    row = Challenge.objects.values().get()
    stored = " ".join(str(v) for v in row.values())
    audited = " ".join(f"{e.data} {e.reason}" for e in AuditEvent.objects.all())
    for text in (stored, audited, caplog.text, *answers):
        assert not re.search(rf"(?<!\d){code}(?!\d)", text)
    assert row["code_hash"] != code and len(row["code_hash"]) == 64


# --- the HTTP gateway ------------------------------------------------------------------------

class Gateway(BaseHTTPRequestHandler):
    received: list = []
    answer = 200

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers.get("Authorization"), body))
        self.send_response(type(self).answer)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    Gateway.received, Gateway.answer = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/sms"
    server.shutdown()


def test_the_http_gateway_gets_the_phone_and_text_with_its_key(shop, gateway, settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "SMS_BACKEND": "merchants.sms.HttpGatewayBackend",
                         "SMS_GATEWAY_URL": gateway, "SMS_GATEWAY_KEY": "k-123"}
    withdraw(shop)
    (auth, body), = Gateway.received
    assert auth == "Bearer k-123"
    assert b'"phone": "13812345678"' in body and re.search(rb"\d{6}", body)


def test_a_gateway_that_fails_answers_503_and_keeps_nothing(shop, gateway, settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "SMS_BACKEND": "merchants.sms.HttpGatewayBackend",
                         "SMS_GATEWAY_URL": gateway, "SMS_GATEWAY_KEY": "k-123"}
    Gateway.answer = 500
    assert refused(lambda: withdraw(shop))[:2] == (503, "sms_unavailable")
    assert Challenge.objects.count() == 0 and Withdrawal.objects.count() == 0


def test_without_the_merchants_setting_a_withdrawal_books_at_once(shop):
    Merchant.objects.filter(pk=shop.merchant.pk).update(otp_for_withdrawals=False)
    assert withdraw(shop)["status"] == "approved" and shop.client.last_response.status_code == 201
    assert sms.OutboxBackend.outbox == []


# --- releases and large payments -------------------------------------------------------------------

@pytest.fixture
def market(platform):
    """A merchant that asks payers to confirm releases and payments above 1,000.00."""
    Merchant.objects.filter(pk=platform.merchant.pk).update(otp_for_releases=True, otp_payments_above="1000.00")
    add_member(platform, "buyer")
    add_member(platform, "seller")
    fund(platform, "buyer", "5000.00")
    return platform


def balance(platform, user_id, field="available") -> Decimal:
    return Decimal(platform.client.get_balance(user_id)[field])


def test_a_payment_above_the_limit_waits_for_the_payer_s_code(market):
    # when the platform books a payment of 1,500.00 (above 1,000.00)
    challenge = market.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="1500.00",
                                             platform_fee="15.00", order_no="BIG-1")
    # then it answers 202 with a challenge to the payer, and nothing is booked
    assert market.client.last_response.status_code == 202
    assert challenge["purpose"] == "payment" and challenge["user_id"] == "buyer" and "challenge_id" in challenge
    assert balance(market, "buyer") == Decimal("5000.00") and balance(market, "seller") == Decimal("0.00")
    # when the payer's code confirms it
    payment = market.client.confirm_challenge(challenge["challenge_id"], texted_code())
    # then the payment is booked as the request asked
    assert market.client.last_response.status_code == 201
    assert payment["order_no"] == "BIG-1" and payment["status"] == "settled" and payment["amount"] == "1500.00"
    assert balance(market, "buyer") == Decimal("3500.00") and balance(market, "seller") == Decimal("1485.00")
    # and the same order again replays the payment, with no new challenge
    again = market.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="1500.00",
                                         platform_fee="15.00", order_no="BIG-1")
    assert market.client.last_response.status_code == 200 and again["id"] == payment["id"]
    assert Challenge.objects.count() == 1


def test_a_payment_at_or_below_the_limit_books_at_once(market):
    payment = market.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="1000.00",
                                           order_no="SMALL-1")
    assert market.client.last_response.status_code == 201 and payment["status"] == "settled"
    assert not Challenge.objects.exists() and not sms.OutboxBackend.outbox


def test_a_payment_the_bank_would_refuse_is_refused_before_the_payer_is_texted(market):
    # more than the payer's available money is refused only when booking (insufficient funds), but an
    # unknown payee, a frozen payer or a bad split is refused before any code is sent
    status, code, _details = refused(lambda: market.client.create_payment(
        payer_user_id="buyer", payee_user_id="buyer", amount="1500.00", order_no="BIG-2"))
    assert (status, code) == (400, "invalid_request") and not sms.OutboxBackend.outbox
    Member.objects.filter(merchant=market.merchant, user_id="buyer").update(status=Member.Status.FROZEN)
    status, code, _details = refused(lambda: market.client.create_payment(
        payer_user_id="buyer", payee_user_id="seller", amount="1500.00", order_no="BIG-3"))
    assert code == "member_frozen" and not sms.OutboxBackend.outbox and not Challenge.objects.exists()


def test_a_wrong_code_books_no_payment(market):
    challenge = market.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="1500.00",
                                             order_no="BIG-4")
    code = texted_code()
    status, error, details = refused(lambda: market.client.confirm_challenge(
        challenge["challenge_id"], "000000" if code != "000000" else "111111"))
    assert (status, error) == (400, "invalid_code") and details["attempts_left"] >= 1
    assert balance(market, "buyer") == Decimal("5000.00")


def test_a_release_waits_for_the_payer_s_code_and_the_code_releases_it(market):
    # given a guaranteed payment of 800.00 (below the payment limit: booked at once)
    payment = market.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="800.00",
                                           order_no="G-1", mode="guaranteed")
    assert payment["status"] == "held"
    # when the platform releases 300.00 of it
    challenge = market.client.release_payment(payment["id"], amount="300.00", reason="签收")
    # then the payer (who confirms receipt) is asked for the code, and nothing moves
    assert market.client.last_response.status_code == 202
    assert challenge["purpose"] == "release" and challenge["user_id"] == "buyer"
    assert balance(market, "seller") == Decimal("0.00")
    # when the payer's code confirms it
    released = market.client.confirm_challenge(challenge["challenge_id"], texted_code())
    # then 300.00 is released, the rest still held
    assert market.client.last_response.status_code == 201
    assert released["status"] == "partially_released" and released["id"] == payment["id"]
    assert balance(market, "seller") == Decimal("300.00")
    # and a used code can't release again
    status, error, _details = refused(lambda: market.client.confirm_challenge(challenge["challenge_id"], "123456"))
    assert (status, error) == (409, "challenge_closed")
    assert balance(market, "seller") == Decimal("300.00")


def test_a_release_of_a_payment_not_held_is_refused_before_any_code(market):
    payment = market.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="100.00",
                                           order_no="D-1")
    status, error, _details = refused(lambda: market.client.release_payment(payment["id"]))
    assert (status, error) == (409, "invalid_state") and not sms.OutboxBackend.outbox
    held = market.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="100.00",
                                        order_no="G-2", mode="guaranteed")
    status, error, _details = refused(lambda: market.client.release_payment(held["id"], amount="100.01"))
    assert status == 400 and not sms.OutboxBackend.outbox
