from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import AmountOutField, MoneyField, PlainCharField

from ..models import OrderType


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
    supervision_balance = serializers.CharField(allow_null=True)
    virtual_total = serializers.CharField(allow_null=True)
