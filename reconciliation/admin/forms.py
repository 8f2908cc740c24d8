"""Forms of the reconciliation screens (unfold widgets, so they look like the rest)."""
import datetime

from django import forms
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminFileFieldWidget, UnfoldAdminSelectWidget, UnfoldAdminSingleDateWidget, UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from ledger.calendar import local_now
from ledger.models import Deposit, Withdrawal
from merchants.models import Member, Merchant
from merchants.selectors import merchants_visible_to

MAX_UPLOAD = 200 * 1024 * 1024


def _reason():
    return forms.CharField(label=_("Reason"), widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}))


def live_merchants(user):
    return merchants_visible_to(user).filter(status__in=(Merchant.Status.ACTIVE, Merchant.Status.FROZEN))


class StatementUploadForm(forms.Form):
    """Step 1: which supervision account, which file."""

    account = forms.ChoiceField(label=_("Supervision account"), widget=UnfoldAdminSelectWidget)
    file = forms.FileField(label=_("Statement or receipts file (CSV, .xlsx or .xls)"),
                           widget=UnfoldAdminFileFieldWidget,
                           help_text=_("As the bank exported it: Excel (.xlsx, .xls) or CSV in UTF-8 or GBK, with "
                                       "its title rows and footers; English or Chinese headers; a signed amount, "
                                       "debit/credit columns, or an amount with a direction column (借贷标志 / "
                                       "收支标志). The layout is recognised from the header (Statement layouts)."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [("", "—")] + [
            (m.supervision_account_number, f"{m.supervision_account_number} · {m.code} · {m.legal_name}")
            for m in live_merchants(user).exclude(supervision_account_number=None).order_by("code")
        ]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 200 MB."))
        return upload


class OrderFileUploadForm(forms.Form):
    merchant = forms.ModelChoiceField(label=_("Merchant"), queryset=Merchant.objects.none(),
                                      widget=UnfoldAdminSelectWidget)
    business_date = forms.DateField(label=_("Business date"), widget=UnfoldAdminSingleDateWidget)
    file = forms.FileField(label=_("Order file (CSV)"), widget=UnfoldAdminFileFieldWidget,
                           help_text=_("Columns: order_no, type (deposit/payment/refund/withdrawal), amount, "
                                       "payer_user_id, payee_user_id."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merchant"].queryset = live_merchants(user).order_by("code")


class RunEodForm(forms.Form):
    merchant = forms.ModelChoiceField(label=_("Merchant"), queryset=Merchant.objects.none(),
                                      widget=UnfoldAdminSelectWidget)
    business_date = forms.DateField(label=_("Business date"), widget=UnfoldAdminSingleDateWidget,
                                    initial=lambda: local_now().date() - datetime.timedelta(days=1))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merchant"].queryset = live_merchants(user).order_by("code")


class MatchDepositForm(forms.Form):
    deposit = forms.ModelChoiceField(label=_("Announced deposit"), queryset=Deposit.objects.none(),
                                     widget=UnfoldAdminSelectWidget,
                                     help_text=_("Open deposits of this merchant for the same amount."))
    reason = _reason()

    def __init__(self, *args, line, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deposit"].queryset = Deposit.objects.filter(
            merchant_id=line.merchant_id, status=Deposit.Status.AWAITING_FUNDS, amount=line.amount,
        ).select_related("member").order_by("-id")
        self.fields["deposit"].label_from_instance = (
            lambda d: f"{d.order_no} · {d.payment_code} · {d.member.user_id} · {d.amount}")
        if line.candidate_deposit_id:
            self.fields["deposit"].initial = line.candidate_deposit_id


class MatchMemberForm(forms.Form):
    user_id = forms.CharField(label=_("Member (platform user id)"), widget=UnfoldAdminTextInputWidget)
    reason = _reason()

    def __init__(self, *args, line, **kwargs):
        self.line = line
        super().__init__(*args, **kwargs)

    def clean_user_id(self):
        member = Member.objects.filter(merchant_id=self.line.merchant_id,
                                       user_id=self.cleaned_data["user_id"].strip()).first()
        if member is None:
            raise forms.ValidationError(_("This merchant has no member with that user id."))
        return member


class MatchWithdrawalForm(forms.Form):
    withdrawal = forms.ModelChoiceField(label=_("Paid withdrawal"), queryset=Withdrawal.objects.none(),
                                        widget=UnfoldAdminSelectWidget)
    reason = _reason()

    def __init__(self, *args, line, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["withdrawal"].queryset = Withdrawal.objects.filter(
            merchant_id=line.merchant_id, status=Withdrawal.Status.PAID, amount=-line.amount,
        ).select_related("member").order_by("-id")


class ReasonOnlyForm(forms.Form):
    reason = _reason()

    def __init__(self, *args, line=None, **kwargs):
        super().__init__(*args, **kwargs)
