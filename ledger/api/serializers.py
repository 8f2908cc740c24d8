from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api.fields import AmountOutField, MoneyField, PlainCharField, SignedMoneyField
from core.api.pagination import PageQuerySerializer, page_serializer
from core.api.schema import ErrorBodySerializer
from core.money import ZERO

from ..models import Deposit, Payment, Withdrawal
from ..models.accounts import AccountKind
from ..services.payment_batch import MAX_ITEMS as MAX_BATCH_ITEMS

# --- balances and statement lines ----------------------------------------------------------

class CreditSummary(serializers.Serializer):
    limit = AmountOutField()
    used = AmountOutField()
    available = AmountOutField()


class BalanceOutput(serializers.Serializer):
    available = AmountOutField()
    frozen = AmountOutField()
    currency = serializers.CharField(default="CNY")
    credit = CreditSummary(allow_null=True, help_text="null when the member has no credit line.")


class EntriesQuery(PageQuerySerializer):
    """`from`/`to` are Python keywords, so the fields are added by name in get_fields."""

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False, input_formats=["%Y-%m-%d"],
                                               help_text="First business date (YYYY-MM-DD), inclusive.")
        fields["to"] = serializers.DateField(required=False, input_formats=["%Y-%m-%d"],
                                             help_text="Last business date (YYYY-MM-DD), inclusive.")
        return fields

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"from": ["`from` must not be after `to`."]})
        return attrs


class EntryLine(serializers.Serializer):
    """One posting on a member's account, from the member's point of view."""

    id = serializers.IntegerField(help_text="Statement line id (stable, increasing).")
    entry_id = serializers.IntegerField()
    entry_type = serializers.CharField(source="entry.entry_type")
    account = serializers.SerializerMethodField(help_text="available | frozen")
    amount = SignedMoneyField(help_text="Signed change to the balance: + in, − out.")
    balance_after = AmountOutField(
        source="running_balance", allow_null=True,
        help_text="The account's balance after this line. A line of a hot account (a busy seller's available "
                  "account, credited without a row lock) stores none: it is computed from the balance now "
                  "(credits not yet rolled up included) less the account's newer lines, so it is always "
                  "given; null is kept in the schema for older clients and is not answered.")
    order_no = serializers.CharField(source="entry.order_no")
    counterparty_user_id = serializers.SerializerMethodField()
    description = serializers.CharField(source="entry.description")
    business_date = serializers.DateField(source="entry.business_date")
    created_at = serializers.DateTimeField(source="entry.created_at")

    def get_account(self, posting) -> str:
        return "frozen" if posting.account.kind == AccountKind.MEMBER_FROZEN else "available"

    def get_counterparty_user_id(self, posting) -> str | None:
        entry, member_id = posting.entry, posting.account.member_id
        other = entry.payee if entry.payer_id == member_id else entry.payer
        if other is None or other.pk == member_id:
            return None
        return other.user_id

    def to_representation(self, posting):
        data = super().to_representation(posting)
        # Members' accounts are liabilities: a credit posting (negative) raises the balance.
        data["amount"] = SignedMoneyField().to_representation(-posting.amount)
        return data


EntryPage = page_serializer(EntryLine, "EntryPage")


# --- deposits -------------------------------------------------------------------------------

class DepositInput(serializers.Serializer):
    user_id = PlainCharField(max_length=64)
    amount = MoneyField()
    order_no = PlainCharField(max_length=64)
    method = serializers.ChoiceField(choices=Deposit.Method.values)
    channel = PlainCharField(max_length=32, required=False, allow_blank=True,
                             help_text="The payment channel's code (method `channel`).")
    currency = serializers.ChoiceField(choices=["CNY"], required=False)


class PayTo(serializers.Serializer):
    account_number = serializers.CharField()
    account_name = serializers.CharField()
    bank_name = serializers.CharField()


class DepositOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Deposit.Status.values)
    user_id = serializers.CharField(source="member.user_id")
    amount = MoneyField()
    currency = serializers.SerializerMethodField()
    order_no = serializers.CharField()
    method = serializers.CharField()
    channel = serializers.CharField(source="channel.code", allow_null=True, default=None)
    payment_code = serializers.CharField(help_text="Put it in the transfer remark (8–12 characters, no 0/O/1/I).")
    pay_to = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    credited_at = serializers.DateTimeField(allow_null=True)

    def get_currency(self, deposit) -> str:
        return "CNY"

    def get_pay_to(self, deposit) -> PayTo:
        merchant = deposit.merchant
        return {"account_number": merchant.supervision_account_number or "",
                "account_name": merchant.legal_name,
                "bank_name": settings.JIANGUAN["SUPERVISION_BANK_NAME"]}


# --- payments --------------------------------------------------------------------------------

class SplitInput(serializers.Serializer):
    user_id = PlainCharField(max_length=64)
    amount = MoneyField()


class PaymentInput(serializers.Serializer):
    payer_user_id = PlainCharField(max_length=64)
    amount = MoneyField()
    order_no = PlainCharField(max_length=64)
    mode = serializers.ChoiceField(choices=Payment.Mode.values)
    payee_user_id = PlainCharField(max_length=64, required=False,
                                   help_text="The one payee; or give `splits`.")
    splits = SplitInput(many=True, required=False, help_text="Several payees (分账); or give `payee_user_id`.")
    platform_fee = MoneyField(allow_zero=True, required=False, help_text="Default \"0.00\".")
    description = PlainCharField(max_length=255, required=False, allow_blank=True, default="")
    currency = serializers.ChoiceField(choices=["CNY"], required=False)

    def validate_splits(self, value):
        if not value:
            raise serializers.ValidationError("At least one split is required.")
        if len(value) > 100:
            raise serializers.ValidationError("At most 100 splits.")
        return value

    def validate(self, attrs):
        if ("payee_user_id" in attrs) == ("splits" in attrs):
            raise serializers.ValidationError({"payee_user_id": ["Give either payee_user_id or splits."]})
        return attrs


class SplitHeldField(AmountOutField):
    """A split's money still in escrow: none for a direct payment (its splits were paid at once)."""

    def get_attribute(self, split):
        return split.held_amount if split.payment.mode == Payment.Mode.GUARANTEED else ZERO


class SplitOutput(serializers.Serializer):
    user_id = serializers.CharField(source="payee.user_id")
    amount = MoneyField()
    refunded_amount = AmountOutField()
    released_amount = AmountOutField(help_text="Released to this payee, less refunds taken back from them.")
    held_amount = SplitHeldField(help_text="This payee's money still in escrow (guaranteed payments).")


class PaymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    order_no = serializers.CharField()
    status = serializers.ChoiceField(choices=Payment.Status.values)
    mode = serializers.ChoiceField(choices=Payment.Mode.values)
    payer_user_id = serializers.CharField(source="payer.user_id")
    amount = MoneyField()
    platform_fee = AmountOutField()
    refunded_amount = AmountOutField()
    released_amount = AmountOutField(
        help_text="What the payees and the fee account hold of a guaranteed payment: released (in one or "
                  "several parts), less refunds taken back from them. \"0.00\" for direct payments.")
    held_amount = AmountOutField(
        help_text="Still in escrow: `amount − released_amount − refunded_amount` (what a release can pay "
                  "out and what a refund takes first). \"0.00\" for direct payments.")
    refundable_amount = AmountOutField(source="refundable", help_text="`amount − refunded_amount`.")
    currency = serializers.SerializerMethodField()
    description = serializers.CharField()
    splits = SplitOutput(many=True, source="splits.all")
    auto_release_at = serializers.DateTimeField(allow_null=True)
    released_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def get_currency(self, payment) -> str:
        return "CNY"


PaymentPage = page_serializer(PaymentOutput, "PaymentPage")


class PaymentsQuery(PageQuerySerializer):
    order_no = PlainCharField(max_length=64, required=False)


class PaymentBatchBody(serializers.Serializer):
    """The batch as it is parsed: the list's shape here, each item by PaymentInput on its own
    (a refused item is that item's answer, not the whole request's)."""

    payments = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=MAX_BATCH_ITEMS)
    atomic = serializers.BooleanField(required=False, default=False)

    def to_internal_value(self, data):
        # DRF's BooleanField takes "true", 1 and "off"; the contract takes a JSON boolean only.
        if isinstance(data, dict) and "atomic" in data and not isinstance(data["atomic"], bool):
            raise serializers.ValidationError({"atomic": [_("A JSON boolean (true or false) is required.")]})
        return super().to_internal_value(data)


class PaymentBatchInput(serializers.Serializer):
    """Up to 1,000 payments booked in one transaction (the view parses each item on its own)."""

    payments = serializers.ListField(
        child=PaymentInput(), min_length=1, max_length=MAX_BATCH_ITEMS,
        help_text=f"1 to {MAX_BATCH_ITEMS} payments, each as for `POST /payments`, booked in this order.")
    atomic = serializers.BooleanField(
        required=False, default=False,
        help_text="false (default): items succeed or fail independently. true: one refused item books "
                  "nothing of the batch (linked).")


class PaymentBatchItemResult(serializers.Serializer):
    index = serializers.IntegerField(help_text="The item's position in `payments`, from 0.")
    status = serializers.IntegerField(
        help_text="What the same payment alone would have answered: 201 booked, 202 held for the bank's "
                  "risk review (status `in_review`), 200 an order booked before with the same content "
                  "(nothing booked again), or the error's status.")
    payment = PaymentOutput(allow_null=True, help_text="The payment (null when refused).")
    error = ErrorBodySerializer(allow_null=True, help_text="The item's error, as in the error envelope "
                                                           "(null when booked).")


class PaymentBatchOutput(serializers.Serializer):
    atomic = serializers.BooleanField()
    booked = serializers.IntegerField(help_text="Items that booked a new payment (status 201).")
    replayed = serializers.IntegerField(help_text="Items whose order was booked before (status 200).")
    failed = serializers.IntegerField(help_text="Items refused (status 4xx); none in an atomic batch.")
    results = PaymentBatchItemResult(many=True)


class ReleaseSplitInput(serializers.Serializer):
    user_id = PlainCharField(max_length=64, help_text="One of the payment's payees.")
    amount = MoneyField(help_text="At most what is still held for this payee.")


class ReleaseInput(serializers.Serializer):
    """A release of a guaranteed payment; no body (or `{}`) releases everything still held."""

    amount = MoneyField(required=False, help_text=(
        "Release this much of what is still held, spread over the payees and the platform fee in "
        "proportion to what each still has in escrow (largest remainder, to the cent). At most "
        "`held_amount` (400). Omit it (and `splits`) to release everything still held."))
    splits = ReleaseSplitInput(many=True, required=False, help_text=(
        "Release per payee: these amounts to these payees; the platform fee's share follows in "
        "proportion to the payee money released (the release that empties the payees' escrow takes "
        "all the fee left). Instead of `amount`, not with it."))
    reason = PlainCharField(max_length=255, required=False, allow_blank=True, default="",
                            help_text="Why (e.g. \"first instalment: goods delivered\"); kept with the release.")

    def validate_splits(self, value):
        if not value:
            raise serializers.ValidationError("At least one split is required.")
        if len(value) > 100:
            raise serializers.ValidationError("At most 100 splits.")
        return value

    def validate(self, attrs):
        if "amount" in attrs and "splits" in attrs:
            raise serializers.ValidationError({"amount": ["Give amount or splits, not both."]})
        return attrs


class RefundInput(serializers.Serializer):
    amount = MoneyField()
    reason = PlainCharField(max_length=255)


class RefundOutput(serializers.Serializer):
    id = serializers.IntegerField()
    payment_id = serializers.IntegerField()
    amount = MoneyField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    payment = PaymentOutput()


# --- withdrawals -------------------------------------------------------------------------------

class WithdrawalInput(serializers.Serializer):
    user_id = PlainCharField(max_length=64)
    amount = MoneyField()
    bank_card_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    order_no = PlainCharField(max_length=64)
    currency = serializers.ChoiceField(choices=["CNY"], required=False)

    def to_internal_value(self, data):
        # DRF's IntegerField takes "12" and 12.0; the contract takes a JSON integer only.
        if isinstance(data, dict) and "bank_card_id" in data and (
                not isinstance(data["bank_card_id"], int) or isinstance(data["bank_card_id"], bool)):
            raise serializers.ValidationError({"bank_card_id": ["A JSON integer is required."]})
        return super().to_internal_value(data)


class ReleaseReviewOutput(serializers.Serializer):
    """202 of a release an outflow rule put in review: nothing moved, the money stays in escrow."""

    status = serializers.SerializerMethodField(
        help_text="Always `in_review`: the bank's risk office decides the release; the platform hears "
                  "`release.review_approved` or `release.review_refused`.")
    review_id = serializers.IntegerField(source="pending_review.id",
                                         help_text="The bank's review of this release (named in the webhooks).")
    payment = PaymentOutput(source="*", help_text="The payment as it is now (its status unchanged).")

    def get_status(self, payment) -> str:
        return "in_review"


class WithdrawalOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Withdrawal.Status.values)
    user_id = serializers.CharField(source="member.user_id")
    amount = MoneyField()
    currency = serializers.SerializerMethodField()
    bank_card_id = serializers.IntegerField()
    masked_number = serializers.CharField(source="bank_card.masked_number")
    order_no = serializers.CharField()
    value_date = serializers.DateField()
    reason = serializers.CharField(help_text="Why it was rejected or failed (empty otherwise).")
    created_at = serializers.DateTimeField()

    def get_currency(self, withdrawal) -> str:
        return "CNY"
