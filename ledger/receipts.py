"""Receipts (回单): printable pages for staff proving a money movement — a settled or released
payment, a refund, a paid withdrawal. Each names the real parties (member names with masked
identity numbers; for withdrawals the masked bank card), the amount in figures and in Chinese
capitals, the journal entries and the booking time in the bank's zone. Staff see receipts of
the merchants they may see (an RM: their own portfolio); anything else, or a movement that
has not happened, is a 404."""
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

from core.admin_display import money
from core.money import amount_in_chinese_capitals
from merchants.selectors import merchants_visible_to

from .models import AccountKind, Payment, Posting, Refund, Withdrawal

BANK_ZONE = ZoneInfo("Asia/Shanghai")


def _time(value) -> str:
    return date_format(value.astimezone(BANK_ZONE), "Y-m-d H:i:s") if value else ""


def _member(member, amount=None) -> dict:
    return {"name": member.name, "user_id": member.user_id, "identity": member.id_number_masked,
            "amount": money(amount) if amount is not None else ""}


def _platform(merchant, kind, amount) -> dict:
    return {"name": f"{merchant.legal_name} · {AccountKind(kind).label}", "user_id": "", "identity": "",
            "amount": money(amount)}


def _visible(request, model, pk, select=()):
    perm = f"ledger.view_{model._meta.model_name}"
    if not request.user.has_perm(perm):
        raise PermissionDenied
    qs = model.objects.select_related("merchant", *select).filter(
        merchant__in=merchants_visible_to(request.user))
    return get_object_or_404(qs, pk=pk)


def _render(request, obj, *, title, kind, order_no, amount, payers, payees, entries, booked_at, extra=()):
    context = {
        "title": title, "kind": kind, "merchant": obj.merchant, "order_no": order_no,
        "amount": money(amount), "amount_capitals": amount_in_chinese_capitals(amount),
        "payers": payers, "payees": payees, "entries": [e for e in entries if e is not None],
        "booked_at": _time(booked_at), "bank_name": settings.JIANGUAN["SUPERVISION_BANK_NAME"],
        "extra": list(extra), "printed_at": _time(timezone.now()), "printed_by": request.user.get_username(),
    }
    return render(request, "ledger/receipt.html", context)


@staff_member_required
def payment_receipt(request, pk: int):
    payment = _visible(request, Payment, pk, select=("payer", "entry", "release_entry"))
    # A payment has happened once the payees have the money: at once for a direct payment, at
    # the release for a guaranteed one. A payment still held (or refunded while held) has not.
    done = payment.entry_id and (payment.mode == Payment.Mode.DIRECT or payment.release_entry_id)
    if not done:
        raise Http404
    splits = payment.splits.select_related("payee").order_by("id")
    payees = [_member(s.payee, s.amount) for s in splits]
    if payment.platform_fee:
        payees.append(_platform(payment.merchant, AccountKind.FEE_INCOME, payment.platform_fee))
    extra = [(_("Mode"), payment.get_mode_display()), (_("Status"), payment.get_status_display())]
    if payment.refunded_amount:
        extra.append((_("Refunded since"), money(payment.refunded_amount)))
    if payment.description:
        extra.append((_("Description"), payment.description))
    booked = payment.release_entry or payment.entry
    return _render(request, payment, title=_("Payment receipt"), kind="payment", order_no=payment.order_no,
                   amount=payment.amount, payers=[_member(payment.payer, payment.amount)], payees=payees,
                   entries=[payment.entry, payment.release_entry], booked_at=booked.created_at, extra=extra)


@staff_member_required
def refund_receipt(request, pk: int):
    refund = _visible(request, Refund, pk, select=("payment", "payment__payer", "entry"))
    # The parties are read off the refund's own postings: the payees (or escrow, while the
    # payment was held) and fee income gave, the payer received.
    payers, payees = [], []
    postings = Posting.objects.filter(entry_id=refund.entry_id).select_related("account", "account__member")
    for posting in postings.order_by("id"):
        account = posting.account
        if account.kind == AccountKind.SUPERVISION:
            continue
        change = account.natural_sign * posting.amount  # to the account's natural balance
        party = (_member(account.member, abs(change)) if account.member_id
                 else _platform(refund.merchant, account.kind, abs(change)))
        (payees if change > 0 else payers).append(party)
    extra = [(_("Reason"), refund.reason), (_("Original payment"), refund.payment.order_no)]
    return _render(request, refund, title=_("Refund receipt"), kind="refund", order_no=refund.payment.order_no,
                   amount=refund.amount, payers=payers, payees=payees, entries=[refund.entry],
                   booked_at=refund.entry.created_at, extra=extra)


@staff_member_required
def withdrawal_receipt(request, pk: int):
    withdrawal = _visible(request, Withdrawal, pk, select=("member", "bank_card", "final_entry", "request_entry"))
    if withdrawal.status != Withdrawal.Status.PAID or not withdrawal.final_entry_id:
        raise Http404
    card = withdrawal.bank_card
    payee = {"name": card.account_name, "user_id": "", "identity": f"{card.bank_name} {card.masked_number}",
             "amount": money(withdrawal.amount)}
    extra = [(_("Value date"), date_format(withdrawal.value_date, "Y-m-d"))]
    if withdrawal.bank_reference:
        extra.append((_("Bank reference"), withdrawal.bank_reference))
    return _render(request, withdrawal, title=_("Withdrawal receipt"), kind="withdrawal",
                   order_no=withdrawal.order_no, amount=withdrawal.amount,
                   payers=[_member(withdrawal.member, withdrawal.amount)], payees=[payee],
                   entries=[withdrawal.request_entry, withdrawal.final_entry],
                   booked_at=withdrawal.final_entry.created_at, extra=extra)
