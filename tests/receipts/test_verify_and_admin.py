"""The public verification page (genuine for the number and its code only, nothing personal,
no hint whether a number exists, throttled) and the staff's "Receipt (PDF)" in the admin."""
import pytest
from django.core.cache import cache
from django.urls import reverse

from ledger.services.payments import payment_create
from receipts.codes import verification_code
from receipts.models import Receipt
from receipts.movements import find_movement
from receipts.services import receipt_issue
from tests import factories as f

from .conftest import paid_withdrawal, pdf_text


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def issued(shop):
    merchant, buyer, seller = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="1005.30", order_no="V-1",
                                mode="direct", splits=[(seller, "1005.30")])
    receipt = receipt_issue(movement=find_movement("payment", payment.pk, merchants=merchant), actor=None)
    return receipt, payment


def verify(client, no, code):
    return client.get(reverse("receipts:verify"), {"no": no, "code": code})


def test_the_number_and_its_code_show_genuine_with_the_parties_masked(client, issued):
    receipt, _payment = issued
    code = verification_code(receipt.number, receipt.amount)
    # when anyone (no sign-in) checks the number and its code, typed loosely
    response = verify(client, receipt.number.lower(), f" {code[:5]}-{code[5:].lower()} ")
    # then the page says genuine, with the amount, kind, date and masked parties
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-result="genuine"' in html
    for text in ["1005.30", receipt.number, "张*丰", "李******司", f"{receipt.business_date:%Y-%m-%d}"]:
        assert text in html, text
    # and nothing personal unmasked: no full names, no identity numbers, no order number
    for secret in ["张三丰", "李四商贸有限公司", "110101199003071234", "110***********1234", "V-1"]:
        assert secret not in html, secret


def test_a_wrong_code_and_an_unknown_number_get_the_same_answer(client, issued):
    receipt, _payment = issued
    code = verification_code(receipt.number, receipt.amount)
    wrong = ("2" if code[0] != "2" else "3") + code[1:]
    wrong_code = verify(client, receipt.number, wrong).content.decode()
    unknown_number = verify(client, "20990101P0000000001", code).content.decode()
    for html in (wrong_code, unknown_number):
        assert 'data-result="not_genuine"' in html
        assert "1005.30" not in html and "张*丰" not in html
    # the two answers differ only in what was typed into the form
    strip = lambda html, *typed: [line for line in html.splitlines() if not any(t in line for t in typed)]  # noqa: E731
    assert strip(wrong_code, receipt.number, wrong) == strip(unknown_number, "20990101P0000000001", code)


def test_the_empty_form_shows_no_result_and_the_page_is_translated(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get(reverse("receipts:verify"))
    html = response.content.decode()
    assert response.status_code == 200 and 'id="result"' not in html
    assert "回单真伪验证" in html and "验证码" in html


def test_look_ups_are_throttled_per_address(client, issued, settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "RECEIPT_VERIFY_PER_MINUTE": 3}
    receipt, _payment = issued
    code = verification_code(receipt.number, receipt.amount)
    statuses = [verify(client, receipt.number, "WRONGCODE").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    # the fourth within the minute is refused, even with the right code
    response = verify(client, receipt.number, code)
    assert response.status_code == 429 and 'data-result="throttled"' in response.content.decode()
    assert "1005.30" not in response.content.decode()
    # another address has its own allowance
    assert client.get(reverse("receipts:verify"), {"no": receipt.number, "code": code},
                      REMOTE_ADDR="10.0.0.9").status_code == 200


def test_the_qr_code_and_the_pdf_point_at_the_verification_page(client, shop, settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "PUBLIC_BASE_URL": "https://receipts.example-bank.cn"}
    merchant, buyer, _seller = shop
    withdrawal = paid_withdrawal(merchant, buyer)
    client.force_login(f.ops())
    response = client.get(reverse("admin:receipts_receipt_download", args=["withdrawal", withdrawal.pk]))
    text = pdf_text(response.content)
    receipt = Receipt.objects.get(kind="withdrawal")
    code = verification_code(receipt.number, receipt.amount)
    assert f"https://receipts.example-bank.cn/receipts/verify?no={receipt.number}&code={code}" in text
    # and that address answers genuine
    assert 'data-result="genuine"' in verify(client, receipt.number, code).content.decode()


# --- the admin ---------------------------------------------------------------------------

def test_staff_download_the_pdf_from_the_movement_s_page(client, shop):
    merchant, buyer, seller = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="12.00", order_no="ADM-1",
                                mode="direct", splits=[(seller, "12.00")])
    rm = merchant.relationship_manager
    client.force_login(rm)
    # the payment's page links to its receipt
    page = client.get(reverse("admin:ledger_payment_change", args=[payment.pk])).content.decode()
    url = reverse("admin:receipts_receipt_download", args=["payment", payment.pk])
    assert url in page and "data-receipt" in page
    # which is the PDF
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "ADM-1" in pdf_text(response.content)
    # the issued receipt is listed in the admin
    assert Receipt.objects.get().number in client.get(reverse("admin:receipts_receipt_changelist")).content.decode()


def test_deposit_and_withdrawal_pages_link_their_receipts_once_they_happened(client, shop):
    merchant, buyer, _seller = shop
    from ledger.models import Deposit

    deposit = Deposit.objects.get(merchant=merchant, member=buyer)
    withdrawal = paid_withdrawal(merchant, buyer)
    client.force_login(f.ops())
    for name, kind, pk in (("deposit", "deposit", deposit.pk), ("withdrawal", "withdrawal", withdrawal.pk)):
        page = client.get(reverse(f"admin:ledger_{name}_change", args=[pk])).content.decode()
        assert reverse("admin:receipts_receipt_download", args=[kind, pk]) in page, name


def test_other_portfolios_and_staff_without_the_view_permission_get_nothing(client, shop):
    merchant, buyer, seller = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="1.00", order_no="ADM-X",
                                mode="direct", splits=[(seller, "1.00")])
    url = reverse("admin:receipts_receipt_download", args=["payment", payment.pk])
    # not signed in: the admin's sign-in page
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    # an RM of another portfolio, a staff user with no role, an unknown kind: not found
    client.force_login(f.active_merchant().relationship_manager)
    assert client.get(url).status_code == 404
    client.force_login(f.UserFactory())
    assert client.get(url).status_code == 404
    client.force_login(f.ops())
    assert client.get(reverse("admin:receipts_receipt_download", args=["cheque", payment.pk])).status_code == 404
    assert not Receipt.objects.exists()
