"""The receipt PDF: valid, in Chinese with the embedded font, naming the real parties, the amount
in figures and in capitals, the order number, the bank; the same number on every download."""
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from core.models import AuditEvent
from ledger.services.payments import payment_create, payment_refund, payment_release
from receipts import pdf
from receipts.codes import receipt_number, verification_code
from receipts.download import pdf_response
from receipts.models import Receipt, ReceiptKind
from receipts.movements import find_movement
from receipts.services import receipt_issue
from tests import factories as f

from .conftest import paid_withdrawal, pdf_text


def download(kind, pk, merchant, **lookup):
    movement = find_movement(kind, pk, merchants=merchant, **lookup)
    response = pdf_response(RequestFactory().get("/"), movement, actor=None)
    assert response["Content-Type"] == "application/pdf"
    return response


def test_a_payment_receipt_names_the_parties_and_the_amount_in_figures_and_words(shop, settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "SUPERVISION_BANK_NAME": "齐鲁资金监管银行"}
    merchant, buyer, seller = shop
    # given a direct payment with a platform fee
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="1005.30", order_no="ORD-9",
                                mode="direct", splits=[(seller, "1000.00")], platform_fee="5.30")
    # when its receipt is downloaded
    response = download(ReceiptKind.PAYMENT, payment.pk, merchant)
    text = pdf_text(response.content)
    # then the PDF names the bank, the kind, the real payer and payees, the amounts and the order
    receipt = Receipt.objects.get(kind="payment", movement_id=payment.pk)
    for expected in ["齐鲁资金监管银行", "电子回单", "付款", "张三丰", "110***********1234", "李四商贸有限公司",
                     "山东齐鲁优选电子商务有限公司", "1,005.30", "1,000.00", "5.30", "人民币壹仟零伍元叁角整",
                     "ORD-9", receipt.number, verification_code(receipt.number, receipt.amount), "付款方", "收款方"]:
        assert expected in text, expected
    assert "1101011990030712" not in text  # never the full identity number
    assert response["X-Receipt-Number"] == receipt.number


def test_the_receipt_number_is_stable_across_downloads_and_issued_once(shop):
    merchant, buyer, seller = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="10.00", order_no="S-1",
                                mode="direct", splits=[(seller, "10.00")])
    # when the receipt is downloaded twice
    first = download(ReceiptKind.PAYMENT, payment.pk, merchant)
    audits = AuditEvent.objects.count()
    second = download(ReceiptKind.PAYMENT, payment.pk, merchant)
    # then both carry the same number, one row exists, and the second download wrote nothing
    assert first["X-Receipt-Number"] == second["X-Receipt-Number"]
    assert Receipt.objects.filter(kind="payment", movement_id=payment.pk).count() == 1
    assert AuditEvent.objects.count() == audits
    receipt = Receipt.objects.get()
    assert receipt.number == receipt_number("payment", payment.pk, payment.entry.business_date)
    assert receipt.number in pdf_text(second.content)


def test_the_first_issue_is_audited_with_the_number_and_the_movement(shop):
    merchant, buyer, seller = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="10.00", order_no="S-2",
                                mode="direct", splits=[(seller, "10.00")])
    receipt = receipt_issue(movement=find_movement("payment", payment.pk, merchants=merchant), actor=f.ops())
    event = AuditEvent.objects.filter(object_id=str(receipt.pk), action="issue").get()
    assert event.merchant_id == merchant.pk
    assert (event.data["number"], event.data["movement"], event.data["amount"]) == (receipt.number, payment.pk, "10.00")
    # the row keeps only masked parties for the public page
    assert (receipt.payer_masked, receipt.payee_masked) == ("张*丰", "李******司")


def test_a_guaranteed_payment_has_a_payment_receipt_at_once_and_a_release_receipt_once_released(shop):
    merchant, buyer, seller = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="300.00", order_no="G-1",
                                mode="guaranteed", splits=[(seller, "290.00")], platform_fee="10.00")
    # the payer's payment into escrow is proof already
    text = pdf_text(download(ReceiptKind.PAYMENT, payment.pk, merchant).content)
    assert "担保" in text and "叁佰元整" in text
    # nothing released yet: no release receipt
    from core.errors import InvalidState

    with pytest.raises(InvalidState):
        find_movement(ReceiptKind.RELEASE, payment.pk, merchants=merchant)
    payment = payment_release(payment=payment, actor=f.ops())
    # when released, the release receipt names the buyer as payer, the seller and the platform as payees
    response = download(ReceiptKind.RELEASE, payment.pk, merchant)
    text = pdf_text(response.content)
    for expected in ["张三丰", "李四商贸有限公司", "290.00", "山东齐鲁优选电子商务有限公司", "10.00", "叁佰元整", "G-1"]:
        assert expected in text, expected
    receipt = Receipt.objects.get(kind="release")
    assert receipt.movement_id == payment.release_entry_id and "R" in receipt.number


def test_a_refund_receipt_names_who_gave_the_money_back(shop):
    merchant, buyer, seller = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="100.00", order_no="P-1",
                                mode="direct", splits=[(seller, "90.00")], platform_fee="10.00")
    refund = payment_refund(payment=payment, actor=None, amount="50.00", reason="尺码不对", idempotency_ref="R")
    text = pdf_text(download(ReceiptKind.REFUND, refund.pk, merchant).content)
    for expected in ["退款", "李四商贸有限公司", "45.00", "5.00", "张三丰", "50.00", "伍拾元整", "尺码不对", "P-1"]:
        assert expected in text, expected


def test_a_deposit_receipt_and_a_withdrawal_receipt(shop):
    merchant, buyer, _seller = shop
    deposit = f.funded(buyer, "88.80", order_no="DEP-2")
    text = pdf_text(download(ReceiptKind.DEPOSIT, deposit.pk, merchant).content)
    assert "入金" in text or "充值" in text
    for expected in ["张三丰", "88.80", "捌拾捌元捌角整", "DEP-2", "山东齐鲁优选电子商务有限公司"]:
        assert expected in text, expected
    withdrawal = paid_withdrawal(merchant, buyer)
    text = pdf_text(download(ReceiptKind.WITHDRAWAL, withdrawal.pk, merchant).content)
    for expected in ["张三丰", "中国工商银行济南分行", "6222***********3445", "1,500.00", "壹仟伍佰元整", "BR-77"]:
        assert expected in text, expected
    assert "6222020200112233445" not in text


def test_movements_not_yet_happened_and_other_merchants_rows_are_refused(shop):
    from core.errors import InvalidState, NotFound
    from ledger.services import deposits

    merchant, buyer, seller = shop
    announced = deposits.deposit_announce(merchant=merchant, actor=None, member=buyer, amount="5.00",
                                          order_no="D-open", method="offline_transfer")
    with pytest.raises(InvalidState):
        find_movement(ReceiptKind.DEPOSIT, announced.pk, merchants=merchant)
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="1.00", order_no="X",
                                mode="direct", splits=[(seller, "1.00")])
    with pytest.raises(NotFound):
        find_movement(ReceiptKind.PAYMENT, payment.pk, merchants=f.active_merchant())
    assert not Receipt.objects.exists()


def test_a_missing_font_is_a_clear_configuration_error(shop, settings, monkeypatch):
    merchant, buyer, seller = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="1.00", order_no="F",
                                mode="direct", splits=[(seller, "1.00")])
    settings.JIANGUAN = {**settings.JIANGUAN, "RECEIPT_FONT": "/nonexistent/wqy-microhei.ttc"}
    monkeypatch.setattr(pdf.pdfmetrics, "getRegisteredFontNames", list)
    with pytest.raises(ImproperlyConfigured, match="fonts-wqy-microhei"):
        download(ReceiptKind.PAYMENT, payment.pk, merchant)
