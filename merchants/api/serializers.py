from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api.fields import MoneyField, PlainCharField

from ..models import MemberKind


class MemberInput(serializers.Serializer):
    user_id = PlainCharField(max_length=64, help_text="The platform's own user id, unique per merchant "
                                                      "(1–64 characters, no \"/\": it is a path segment).")
    name = PlainCharField(max_length=200)
    kind = serializers.ChoiceField(choices=MemberKind.values)
    id_number = PlainCharField(max_length=32, required=False, allow_blank=True, default="",
                               help_text="Identity number (individuals) or credit code (businesses); stored "
                                         "encrypted, answered masked.")
    phone = PlainCharField(max_length=32, required=False, allow_blank=True, default="")
    roles = serializers.ListField(child=serializers.ChoiceField(choices=["buyer", "seller"]), required=False,
                                  default=["buyer"], max_length=2)

    def validate_user_id(self, value):
        if "/" in value:
            # /members/{user_id}/... could never address it (servers decode %2F before routing).
            raise serializers.ValidationError(_("A user id can't contain “/”."))
        return value


class MemberOutput(serializers.Serializer):
    user_id = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=MemberKind.values)
    status = serializers.CharField(help_text="pending_verification | active | frozen | closed")
    roles = serializers.ListField(child=serializers.CharField())
    id_number = serializers.CharField(source="id_number_masked", help_text="Masked, e.g. 110***********1234.")
    phone = serializers.CharField(source="phone_masked", help_text="Masked, e.g. 138****5678.")
    created_at = serializers.DateTimeField()


class BankCardInput(serializers.Serializer):
    account_number = PlainCharField(max_length=40, help_text="8 to 32 digits.")
    account_name = PlainCharField(max_length=200)
    bank_name = PlainCharField(max_length=200)


class BankCardOutput(serializers.Serializer):
    id = serializers.IntegerField()
    masked_number = serializers.CharField()
    account_name = serializers.CharField()
    bank_name = serializers.CharField()
    verified = serializers.BooleanField()
    verified_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class BankCardVerifyInput(serializers.Serializer):
    amount = MoneyField(help_text="The micro-deposit amount the member read off their statement.")
