"""The API's answers where the bank's outflow rules apply: a movement held for
the risk office answers 202 with status `in_review` (not an error), the same again on a replay;
a refusal is 422 `rule_refused` naming the rule; the OpenAPI schema documents both; merchants
without rules answer as API.md always said."""
from decimal import Decimal

import pytest
import yaml
from django.test import Client

from jianguan_client import JianguanClient, JianguanError
from ledger.selectors import prove_merchant
from merchants.models import Merchant
from risk.models import RiskReview
from risk.services.reviews import review_approve, review_refuse
from tests import factories as f
from tests.risk.rules_helpers import rule

from .conftest import add_member, fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(platform):
    add_member(platform, "buyer")
    add_member(platform, "seller")
    fund(platform, "buyer", "5000.00")
    return platform


def proven(platform):
    proof = prove_merchant(platform.merchant)
    assert proof.supervision_balance == proof.virtual_total and not proof.mismatched_accounts


def pay(shop, amount="1500.00", order_no="O-1", key=None, mode="direct"):
    return shop.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount=amount,
                                      order_no=order_no, mode=mode, idempotency_key=key)


def test_without_rules_a_payment_answers_201_as_always(shop):
    assert pay(shop)["status"] == "settled" and shop.client.last_response.status_code == 201


def test_a_payment_in_review_answers_202_in_review_and_a_replay_the_same(shop):
    # given a rule reviewing payments above 1,000 for this merchant
    rule(shop.merchant, name="review big")
    # when the platform pays 1,500
    first = pay(shop, key="k-1")
    # then 202, status in_review, the payer's money held
    assert shop.client.last_response.status_code == 202 and first["status"] == "in_review"
    assert JianguanClient.in_review(first)
    balance = shop.client.get_balance("buyer")
    assert (balance["available"], balance["frozen"]) == ("3500.00", "1500.00")
    # and the same request again answers the same (replayed), as does the same order under a new key
    again = pay(shop, key="k-1")
    assert again == first and shop.client.last_response.headers["Idempotent-Replayed"] == "true"
    other_key = pay(shop, key="k-2")
    assert shop.client.last_response.status_code == 202 and other_key["id"] == first["id"]
    assert RiskReview.objects.count() == 1
    proven(shop)
    # when a risk officer approves it, then GET shows it settled
    review_approve(review=RiskReview.objects.get(), actor=f.risk())
    assert shop.client.get_payment(first["id"])["status"] == "settled"
    proven(shop)


def test_a_refused_payment_answers_422_rule_refused_naming_the_rule(shop):
    rule(shop.merchant, name="no big payments", outcome="refuse")
    with pytest.raises(JianguanError) as err:
        pay(shop)
    assert (err.value.status, err.value.code, err.value.details["rule"]) == (422, "rule_refused", "no big payments")
    assert "amount 1500.00 above 1000.00" in err.value.details["detail"]
    assert shop.client.get_balance("buyer")["available"] == "5000.00"


def test_a_refused_review_ends_refused_and_the_money_is_back(shop):
    rule(shop.merchant)
    payment = pay(shop)
    review_refuse(review=RiskReview.objects.get(), actor=f.risk(), reason="fake order")
    assert shop.client.get_payment(payment["id"])["status"] == "refused"
    assert shop.client.get_balance("buyer")["available"] == "5000.00"


def test_a_withdrawal_in_review_answers_202_with_the_withdrawal(shop):
    rule(shop.merchant, movement="withdrawal")
    card = shop.client.add_bank_card("buyer", account_number="6222020200112233445", account_name="Member buyer",
                                     bank_name="ICBC")
    answer = shop.client.create_withdrawal(user_id="buyer", amount="1500.00", bank_card_id=card["id"],
                                           order_no="W-1", idempotency_key="w-1")
    assert shop.client.last_response.status_code == 202
    assert (answer["status"], answer["amount"], answer["order_no"]) == ("in_review", "1500.00", "W-1")
    assert shop.client.create_withdrawal(user_id="buyer", amount="1500.00", bank_card_id=card["id"],
                                         order_no="W-1", idempotency_key="w-2")["id"] == answer["id"]
    assert shop.client.last_response.status_code == 202
    review_approve(review=RiskReview.objects.get(), actor=f.risk())
    assert shop.client.get_withdrawal(answer["id"])["status"] in ("approved", "pending_approval")
    proven(shop)


def test_a_withdrawal_confirmed_by_code_and_held_for_review_answers_202(shop):
    import re

    from merchants import sms

    sms.OutboxBackend.outbox.clear()
    Merchant.objects.filter(pk=shop.merchant.pk).update(otp_for_withdrawals=True)
    rule(shop.merchant, movement="withdrawal")
    card = shop.client.add_bank_card("buyer", account_number="6222020200112233445", account_name="Member buyer",
                                     bank_name="ICBC")
    challenge = shop.client.create_withdrawal(user_id="buyer", amount="1500.00", bank_card_id=card["id"],
                                              order_no="W-2")
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", sms.OutboxBackend.outbox[-1][1]).group(1)
    answer = shop.client.confirm_challenge(challenge["challenge_id"], code)
    assert shop.client.last_response.status_code == 202 and answer["status"] == "in_review"
    sms.OutboxBackend.outbox.clear()


def test_a_release_in_review_answers_202_and_moves_nothing(shop):
    payment = pay(shop, amount="800.00", mode="guaranteed")
    rule(shop.merchant, movement="release", kind="quick_release", hours=24, amount=None)
    answer = shop.client.release_payment(payment["id"], idempotency_key="r-1")
    assert shop.client.last_response.status_code == 202 and JianguanClient.in_review(answer)
    review = RiskReview.objects.get()
    assert (answer["review_id"], answer["payment"]["id"], answer["payment"]["status"]) == (
        review.pk, payment["id"], "held")
    assert answer["payment"]["held_amount"] == "800.00"
    assert shop.client.release_payment(payment["id"], idempotency_key="r-1") == answer  # replayed
    with pytest.raises(JianguanError) as err:
        shop.client.release_payment(payment["id"], idempotency_key="r-2")
    assert (err.value.status, err.value.code) == (409, "invalid_state")
    review_approve(review=review, actor=f.risk())
    assert shop.client.get_payment(payment["id"])["status"] == "released"
    assert Decimal(shop.client.get_balance("seller")["available"]) == Decimal("800.00")
    proven(shop)


def test_a_batch_item_in_review_answers_202_in_its_result(shop):
    rule(shop.merchant)
    result = shop.client.create_payments_batch([
        {"payer_user_id": "buyer", "payee_user_id": "seller", "amount": "10.00", "order_no": "B-1"},
        {"payer_user_id": "buyer", "payee_user_id": "seller", "amount": "1500.00", "order_no": "B-2"},
    ])
    assert [r["status"] for r in result["results"]] == [201, 202]
    assert result["results"][1]["payment"]["status"] == "in_review"
    proven(shop)


def test_the_schema_documents_in_review_and_rule_refused():
    schema = yaml.safe_load(Client().get("/api/schema/").content)
    paths, components = schema["paths"], schema["components"]["schemas"]
    def one_of(operation):  # the 202 answer: the movement in review, or a one-time-code challenge
        ref = operation["responses"]["202"]["content"]["application/json"]["schema"]["$ref"]
        return [option["$ref"].rsplit("/", 1)[1] for option in components[ref.rsplit("/", 1)[1]]["oneOf"]]

    payment = paths["/api/v1/payments"]["post"]
    assert one_of(payment) == ["PaymentOutput", "ChallengeOutput"]
    assert "in_review" in payment["description"] and "rule_refused" in payment["responses"]["422"]["description"]
    release = paths["/api/v1/payments/{id}/release"]["post"]
    review_name, challenge_name = one_of(release)
    assert {"status", "review_id", "payment"} <= set(components[review_name]["properties"])
    assert challenge_name == "ChallengeOutput"
    assert "rule_refused" in release["responses"]["422"]["description"]
    withdrawal = paths["/api/v1/withdrawals"]["post"]
    accepted = withdrawal["responses"]["202"]["content"]["application/json"]["schema"]
    assert "oneOf" in components[accepted["$ref"].rsplit("/", 1)[1]] if "$ref" in accepted else "oneOf" in accepted
    assert "rule_refused" in withdrawal["responses"]["422"]["description"]
    statuses = {e for c in components.values() for e in c.get("enum", []) if isinstance(e, str)}
    assert "in_review" in statuses


def test_a_withdrawal_a_rule_refuses_is_refused_before_the_member_gets_a_code(shop):
    from merchants import sms
    from risk.models import RuleHit

    sms.OutboxBackend.outbox.clear()
    Merchant.objects.filter(pk=shop.merchant.pk).update(otp_for_withdrawals=True)
    rule(shop.merchant, name="no big withdrawals", movement="withdrawal", outcome="refuse")
    card = shop.client.add_bank_card("buyer", account_number="6222020200112233445", account_name="Member buyer",
                                     bank_name="ICBC")
    with pytest.raises(JianguanError) as err:
        shop.client.create_withdrawal(user_id="buyer", amount="1500.00", bank_card_id=card["id"], order_no="W-3")
    assert (err.value.status, err.value.code, err.value.details["rule"]) == (422, "rule_refused", "no big withdrawals")
    assert sms.OutboxBackend.outbox == [] and RuleHit.objects.get().outcome == "refuse"
    # a withdrawal the rule would only review is challenged as usual, and decided when confirmed
    rule(shop.merchant, movement="withdrawal", amount="100.00")
    challenge = shop.client.create_withdrawal(user_id="buyer", amount="500.00", bank_card_id=card["id"],
                                              order_no="W-4")
    assert shop.client.last_response.status_code == 202 and "challenge_id" in challenge
    assert RuleHit.objects.count() == 1
    sms.OutboxBackend.outbox.clear()
