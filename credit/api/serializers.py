from rest_framework import serializers

from core.api.fields import AmountOutField, MoneyField, PlainCharField
from core.api.pagination import PageQuerySerializer, page_serializer

from ..models import CreditBill, CreditLine


class CreditLineOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=CreditLine.Status.values)
    limit = AmountOutField()
    used = AmountOutField()
    available = AmountOutField(help_text="What can be drawn now: 0.00 unless the line is active.")
    term_days = serializers.IntegerField()
    grace_days = serializers.IntegerField()
    penalty_rate = serializers.DecimalField(max_digits=7, decimal_places=6, coerce_to_string=True,
                                            help_text="Daily penalty rate on overdue principal, e.g. \"0.000500\".")
    creditor_user_id = serializers.CharField(source="creditor_member.user_id", allow_null=True, default=None,
                                             help_text="The seller who extends the credit; null when it is the "
                                                       "platform.")
    creditor_is_platform = serializers.BooleanField()


class DrawdownInput(serializers.Serializer):
    user_id = PlainCharField(max_length=64, help_text="The buyer drawing on their line.")
    payee_user_id = PlainCharField(max_length=64, help_text="The seller paid (a seller of this platform).")
    amount = MoneyField()
    order_no = PlainCharField(max_length=64)
    currency = serializers.ChoiceField(choices=["CNY"], required=False)


class BillOutput(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.CharField(source="member.user_id")
    payee_user_id = serializers.CharField(source="payee.user_id")
    order_no = serializers.CharField()
    amount = AmountOutField(help_text="Principal drawn.")
    outstanding = AmountOutField(help_text="Principal and penalty still owed.")
    principal_repaid = AmountOutField()
    penalty_accrued = AmountOutField()
    penalty_repaid = AmountOutField()
    business_date = serializers.DateField(help_text="Business date of the drawdown.")
    due_date = serializers.DateField()
    grace_until = serializers.DateField(help_text="Overdue (and penalty interest) after this date.")
    status = serializers.ChoiceField(choices=CreditBill.Status.values)
    created_at = serializers.DateTimeField()


class RepaymentInput(serializers.Serializer):
    amount = MoneyField()
    currency = serializers.ChoiceField(choices=["CNY"], required=False)


class RepaymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    bill_id = serializers.IntegerField()
    amount = AmountOutField()
    penalty_part = AmountOutField(help_text="Paid to penalty interest (always first).")
    principal_part = AmountOutField(help_text="Paid to principal; restores the credit line by as much.")
    business_date = serializers.DateField()
    created_at = serializers.DateTimeField()
    bill = BillOutput(help_text="The bill after the repayment.")


class BillsQuery(PageQuerySerializer):
    user_id = PlainCharField(max_length=64, required=False, help_text="Only this buyer's bills.")
    status = serializers.ChoiceField(choices=CreditBill.Status.values, required=False)


BillPage = page_serializer(BillOutput, "CreditBillPage")
