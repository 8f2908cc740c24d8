from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import AmountOutField, MoneyField, PlainCharField
from core.api.pagination import PageQuerySerializer, page_serializer

from ..models import OrderType
from ..models.eod import ORDER_KINDS


class OrderInput(serializers.Serializer):
    order_no = PlainCharField(max_length=64)
    type = serializers.ChoiceField(choices=OrderType.values)
    amount = MoneyField()
    payer_user_id = PlainCharField(max_length=64, required=False, allow_blank=True)
    payee_user_id = PlainCharField(max_length=64, required=False, allow_blank=True)


@extend_schema_field(OrderInput(many=True))
class OrdersField(serializers.ListField):
    """Documented as a list of OrderInput; read as plain objects, because the service checks every
    order at once and reports each bad one (a serializer would stop at the first field errors)."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.DictField(), **kwargs)


class OrderFileInput(serializers.Serializer):
    """The schema of the JSON body; the view hands the orders to the service, which checks them
    all at once (every bad order is reported, not only the first)."""

    business_date = serializers.DateField(format="%Y-%m-%d", input_formats=["%Y-%m-%d"])
    orders = OrdersField(allow_empty=True)


class OrderFileOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    business_date = serializers.DateField()
    orders = serializers.IntegerField(source="line_count")
    total_amount = AmountOutField()


class RunOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["balanced", "discrepancies", "pending"])
    matched = serializers.IntegerField()
    missing_in_ledger = serializers.IntegerField()
    missing_in_orders = serializers.IntegerField()
    amount_mismatches = serializers.IntegerField()
    party_mismatches = serializers.IntegerField(help_text="Orders whose amounts agree but whose payer or payee "
                                                          "is not the member the ledger booked.")
    supervision_balance = serializers.CharField(allow_null=True)
    virtual_total = serializers.CharField(allow_null=True)


class DifferencesQuery(PageQuerySerializer):
    category = serializers.ChoiceField(choices=[str(k) for k in ORDER_KINDS], required=False,
                                       help_text="Only the differences of this category.")


class PartiesOutput(serializers.Serializer):
    payer_user_id = serializers.CharField(allow_null=True, help_text="null where this side names no payer.")
    payee_user_id = serializers.CharField(allow_null=True, help_text="null where this side names no payee.")


class PartyMismatchOutput(serializers.Serializer):
    platform = PartiesOutput(help_text="As the order file names them.")
    ledger = PartiesOutput(help_text="The members the ledger booked the order's entries with.")


class DifferenceOutput(serializers.Serializer):
    order_no = serializers.CharField()
    type = serializers.CharField(source="order_type", help_text="deposit, payment, refund or withdrawal.")
    category = serializers.ChoiceField(source="kind", choices=[str(k) for k in ORDER_KINDS])
    platform_amount = AmountOutField(source="expected_amount", allow_null=True,
                                     help_text="The order file's amount; null when the order is not in it.")
    ledger_amount = AmountOutField(source="actual_amount", allow_null=True,
                                   help_text="The ledger's amount for the order; null when it booked none.")
    parties = PartyMismatchOutput(allow_null=True, help_text="For a `party_mismatch`: both sides' payer and "
                                                             "payee; null for the other categories.")


DifferencePage = page_serializer(DifferenceOutput, "ReconciliationDifferencePage")

