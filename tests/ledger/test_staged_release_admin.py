"""The partial release button on a guaranteed payment's admin page: shown and working only for
staff with ledger.release_payment (operations), only while something is held; refusals in words."""
from decimal import Decimal

import pytest
from django.urls import reverse

from ledger.models import Payment, PaymentRelease
from ledger.services.payments import payment_create
from ledger.services.releases import payment_release
from tests import factories as f
from tests.reconciliation.builders import funded

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def payment():
    merchant = f.active_merchant()
    buyer, seller = f.member(merchant), f.member(merchant)
    funded(merchant, buyer, "100.00")
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="100.00", order_no="G-1",
                                mode="guaranteed", splits=[(seller, "95.00")], platform_fee="5.00")
    return payment


def page(pk):
    return reverse("admin:ledger_payment_change", args=[pk])


def button(pk):
    return reverse("admin:ledger_payment_do", args=[pk, "release_part"])


def test_operations_release_part_of_a_held_payment_with_an_amount_and_a_reason(client, payment):
    # given operations on the payment's page
    client.force_login(f.ops())
    assert 'data-transition="release_part"' in client.get(page(payment.pk)).content.decode()
    assert client.get(button(payment.pk)).status_code == 200  # the amount and reason form
    # when they release 40.00 with a reason
    response = client.post(button(payment.pk), {"amount": "40.00", "reason": "First lot delivered"}, follow=True)
    # then the part is booked, shown on the page and audited
    assert response.status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.released_amount) == (Payment.Status.PARTIALLY_RELEASED, D("40.00"))
    release = PaymentRelease.objects.get(payment=payment)
    assert (release.amount, release.reason, release.entry.actor_kind) == (D("40.00"), "First lot delivered", "staff")
    body = client.get(page(payment.pk)).content.decode()
    assert "First lot delivered" in body and "40.00" in body


def test_a_bad_amount_or_more_than_is_held_is_refused_in_words_and_books_nothing(client, payment):
    client.force_login(f.ops())
    response = client.post(button(payment.pk), {"amount": "1e3", "reason": "x"})
    assert response.status_code == 200 and "amount" in response.content.decode().lower()  # the form again
    response = client.post(button(payment.pk), {"amount": "100.01", "reason": "too much"}, follow=True)
    assert "Over-release" in response.content.decode()
    assert not PaymentRelease.objects.filter(payment=payment).exists()


@pytest.mark.parametrize("role", ["risk", "auditor", "rm"])
def test_staff_without_the_permission_see_no_button_and_a_posted_one_is_refused(client, payment, role):
    user = payment.merchant.relationship_manager if role == "rm" else getattr(f, role)()
    client.force_login(user)
    assert 'data-transition="release_part"' not in client.get(page(payment.pk)).content.decode()
    response = client.post(button(payment.pk), {"amount": "10.00", "reason": "please"}, follow=True)
    assert "Refused" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.HELD and payment.released_amount == 0


def test_no_button_once_nothing_is_held(client, payment):
    payment_release(payment=payment, actor=None)
    client.force_login(f.ops())
    assert 'data-transition="release_part"' not in client.get(page(payment.pk)).content.decode()
    response = client.post(button(payment.pk), {"amount": "10.00", "reason": "again"}, follow=True)
    assert "Refused" in response.content.decode()


def test_the_merchant_page_shows_the_merchant_s_own_auto_release_delay(client, payment):
    # given the merchant's RM, who keeps its settings
    client.force_login(payment.merchant.relationship_manager)
    response = client.get(reverse("admin:merchants_merchant_change", args=[payment.merchant_id]))
    body = response.content.decode()
    assert response.status_code == 200, response.status_code
    assert "auto-release after (days)" in body.lower()
