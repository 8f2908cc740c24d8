"""GET …/receipt for platforms: PDF, signed like any request, through jianguan_client; 404 for
another merchant's movement, 409 invalid_state when there is nothing to prove yet; in the schema."""
import pytest
import yaml
from django.test import Client

from jianguan_client import JianguanError
from ledger.models import Withdrawal
from ledger.services import withdrawals
from receipts.models import Receipt
from tests import factories as f
from tests.api.conftest import _fresh_cache, add_member, error_of, fund, other_platform, platform, raw_api  # noqa: F401

from .conftest import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(platform):
    add_member(platform, "buyer", name="王五")
    add_member(platform, "seller", name="赵六贸易")
    fund(platform, "buyer", "1000.00")
    return platform


def test_a_payment_receipt_is_a_pdf_with_the_same_number_on_every_download(world):
    client = world.client
    payment = client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="123.45",
                                    order_no="API-1")
    # when the platform downloads the receipt twice
    first = client.payment_receipt(payment["id"])
    number = client.last_response.headers["X-Receipt-Number"]
    assert client.last_response.headers["Content-Type"] == "application/pdf"
    second = client.payment_receipt(payment["id"])
    # then both are PDFs of the same receipt
    assert client.last_response.headers["X-Receipt-Number"] == number
    text = pdf_text(first)
    for expected in ["王五", "赵六贸易", "123.45", "人民币壹佰贰拾叁元肆角伍分", "API-1", number]:
        assert expected in text, expected
    assert number in pdf_text(second)
    assert Receipt.objects.filter(number=number).count() == 1


def test_release_refund_deposit_and_withdrawal_receipts(world):
    client = world.client
    payment = client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="50.00",
                                    order_no="API-G", mode="guaranteed")
    # a guaranteed payment not released: its release has no receipt yet
    with pytest.raises(JianguanError) as refused:
        client.payment_receipt(payment["id"], kind="release")
    assert (refused.value.status, refused.value.code) == (409, "invalid_state")
    client.release_payment(payment["id"])
    assert "伍拾元整" in pdf_text(client.payment_receipt(payment["id"], kind="release"))
    assert "伍拾元整" in pdf_text(client.payment_receipt(payment["id"], kind="release", part=1))
    with pytest.raises(JianguanError) as refused:
        client.payment_receipt(payment["id"], kind="release", part=2)
    assert refused.value.status == 404
    # a refund, by its payment
    direct = client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="20.00", order_no="API-D")
    refund = client.refund_payment(direct["id"], amount="20.00", reason="退货")
    assert "退货" in pdf_text(client.refund_receipt(direct["id"], refund["id"]))
    with pytest.raises(JianguanError) as refused:
        client.refund_receipt(payment["id"], refund["id"])  # not that payment's refund
    assert refused.value.status == 404
    # a deposit announced but not credited: 409; credited: its receipt
    open_deposit = client.create_deposit(user_id="buyer", amount="9.00", order_no="API-DEP")
    with pytest.raises(JianguanError) as refused:
        client.deposit_receipt(open_deposit["id"])
    assert (refused.value.status, refused.value.code) == (409, "invalid_state")
    credited = fund(world, "buyer", "7.00")
    assert "柒元整" in pdf_text(client.deposit_receipt(credited.pk))
    # a withdrawal requested but not paid: 409; paid: its receipt
    card = client.add_bank_card("buyer", account_number="6222020200112233445", account_name="王五",
                                bank_name="中国银行")
    requested = client.create_withdrawal(user_id="buyer", amount="10.00", bank_card_id=card["id"], order_no="API-W")
    with pytest.raises(JianguanError) as refused:
        client.withdrawal_receipt(requested["id"])
    assert (refused.value.status, refused.value.code) == (409, "invalid_state")
    withdrawal = Withdrawal.objects.get(pk=requested["id"])
    ops = f.ops()
    if withdrawal.status == Withdrawal.Status.PENDING_APPROVAL:
        withdrawal = withdrawals.withdrawal_approve(withdrawal=withdrawal, actor=ops)
    withdrawals.withdrawal_process(withdrawal=withdrawal, actor=ops)
    withdrawals.withdrawal_mark_paid(withdrawal=withdrawal, actor=ops, bank_reference="BR-1")
    text = pdf_text(client.withdrawal_receipt(requested["id"]))
    assert "中国银行" in text and "6222***********3445" in text and "壹拾元整" in text


def test_another_merchant_s_movement_is_not_found(world, other_platform):
    payment = world.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="1.00",
                                          order_no="API-X")
    for call in (lambda c: c.payment_receipt(payment["id"]), lambda c: c.deposit_receipt(1),
                 lambda c: c.withdrawal_receipt(payment["id"]), lambda c: c.refund_receipt(payment["id"], 1)):
        with pytest.raises(JianguanError) as refused:
            call(other_platform.client)
        assert (refused.value.status, refused.value.code) == (404, "not_found")
    assert not Receipt.objects.exists()


def test_errors_are_the_json_envelope_and_bad_queries_are_refused(world, raw_api):
    payment = world.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="1.00",
                                          order_no="API-Q")
    response = raw_api.as_platform(world, "GET", f"/api/v1/payments/{payment['id']}/receipt?kind=everything",
                                   headers={"Accept": "application/pdf"})
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_request"
    response = raw_api.as_platform(world, "GET", "/api/v1/deposits/999999/receipt", headers={"Accept": "application/pdf"})
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    # unsigned: refused like any request
    assert Client().get(f"/api/v1/payments/{payment['id']}/receipt").status_code == 401


def test_the_schema_documents_the_receipt_endpoints_as_pdf():
    schema = yaml.safe_load(Client().get("/api/schema/").content)
    paths = schema["paths"]
    for path in ("/api/v1/payments/{id}/receipt", "/api/v1/payments/{id}/refunds/{refund_id}/receipt",
                 "/api/v1/deposits/{id}/receipt", "/api/v1/withdrawals/{id}/receipt"):
        operation = paths[path]["get"]
        assert "application/pdf" in operation["responses"]["200"]["content"], path
        assert {"401", "404", "429"} <= set(operation["responses"]), path
        assert operation["security"] == [{"AppId": [], "Timestamp": [], "Nonce": [], "Signature": []}]
    payment = paths["/api/v1/payments/{id}/receipt"]["get"]
    assert "409" in payment["responses"] and {p["name"] for p in payment["parameters"]} >= {"kind", "part"}
