"""What a receipt proves, read off the ledger: for each kind of movement its amount, order number,
business date and booking time, and the real parties — members by name (identity number
masked), the platform by its legal name and the account concerned, a withdrawal's payee by the
bank card's account name (card number masked). A movement that has not happened yet (a deposit
not credited, a withdrawal not paid, a payment never released) is InvalidState: nothing to prove.

Reads only; receipts.services stores the Receipt."""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.utils import translation
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

from core.errors import InvalidState, NotFound
from core.masking import mask_card, mask_name
from ledger.models import (
    AccountKind,
    Deposit,
    EntryType,
    JournalEntry,
    Payment,
    Posting,
    Refund,
    Withdrawal,
)

from .models import ReceiptKind


@dataclass(frozen=True)
class Party:
    name: str  # the real name, printed in full on the receipt (the parties' own document)
    detail: str = ""  # masked identity number, bank and masked card, account
    amount: Decimal | None = None


@dataclass
class Movement:
    kind: str
    movement_id: int
    merchant: object
    amount: Decimal
    order_no: str
    business_date: date
    booked_at: datetime
    payers: list[Party]
    payees: list[Party]
    lines: list[tuple[str, str]] = field(default_factory=list)  # further rows: mode, reason, references

    @property
    def kind_label(self) -> str:
        return str(ReceiptKind(self.kind).label)

    def masked(self, parties: list[Party]) -> str:
        """The parties as the public verification page shows them: names masked, nothing else."""
        return "、".join(dict.fromkeys(mask_name(p.name) for p in parties))[:255]


def member_party(member, amount=None, detail="") -> Party:
    identity = member.id_number_masked
    detail = " · ".join(x for x in (detail, _("ID %(number)s") % {"number": identity} if identity else "") if x)
    return Party(member.name, detail, amount)


def platform_party(merchant, kind, amount=None) -> Party:
    return Party(merchant.legal_name, str(AccountKind(kind).label), amount)


def _entry_parties(entry_id: int, merchant) -> tuple[list[Party], list[Party]]:
    """Who gave and who received in one entry, from its postings: an account whose natural
    balance went down gave. The supervision account (the bank's side of every movement) is no party."""
    gave, got = [], []
    postings = (Posting.objects.filter(entry_id=entry_id).select_related("account", "account__member")
                .order_by("id"))
    for posting in postings:
        account = posting.account
        if account.kind == AccountKind.SUPERVISION:
            continue
        change = account.natural_sign * posting.amount
        party = (member_party(account.member, abs(change)) if account.member_id
                 else platform_party(merchant, account.kind, abs(change)))
        (got if change > 0 else gave).append(party)
    return gave, got


def _entry(entry_id) -> JournalEntry:
    return JournalEntry.objects.only("id", "business_date", "created_at").get(pk=entry_id)


# --- one function per kind ----------------------------------------------------------------

def payment_movement(payment: Payment) -> Movement:
    """The payer paid: to the payees at once (direct), or into escrow for them (guaranteed)."""
    if not payment.entry_id:
        raise InvalidState(_("The payment has not been booked."))
    entry = _entry(payment.entry_id)
    splits = payment.splits.select_related("payee").order_by("id")
    payees = [member_party(s.payee, s.amount) for s in splits]
    if payment.platform_fee:
        payees.append(platform_party(payment.merchant, AccountKind.FEE_INCOME, payment.platform_fee))
    lines = [(_("Mode"), payment.get_mode_display())]
    if payment.mode == Payment.Mode.GUARANTEED:
        lines.append((_("Note"), _("Held in escrow by the bank until released to the payees.")))
    if payment.description:
        lines.append((_("Description"), payment.description))
    return Movement(ReceiptKind.PAYMENT, payment.pk, payment.merchant, payment.amount, payment.order_no,
                    entry.business_date, entry.created_at, [member_party(payment.payer, payment.amount)],
                    payees, lines)


def release_entries(payment: Payment) -> list[JournalEntry]:
    """The payment's releases in booking order (one, or one per part of a staged release)."""
    return list(JournalEntry.objects.filter(merchant_id=payment.merchant_id, entry_type=EntryType.PAYMENT_RELEASE,
                                            order_no=payment.order_no)
                .only("id", "business_date", "created_at").order_by("id"))


def release_movement(payment: Payment, part: int | None = None) -> Movement:
    """Escrow paid out to the payees (and the platform's fee): the `part`-th release, the last by default."""
    entries = release_entries(payment)
    if not entries:
        raise InvalidState(_("Nothing of this payment has been released yet."))
    if part is None:
        part = len(entries)
    if not 1 <= part <= len(entries):
        raise NotFound(_("The payment has no release number %(part)s.") % {"part": part})
    entry = entries[part - 1]
    gave, payees = _entry_parties(entry.pk, payment.merchant)
    amount = sum((p.amount for p in gave), Decimal("0.00"))
    lines = [(_("Release part"), _("part %(part)s of %(count)s") % {"part": part, "count": len(entries)}),
             (_("Paid from"), _("escrow of the guaranteed payment"))]
    return Movement(ReceiptKind.RELEASE, entry.pk, payment.merchant, amount, payment.order_no,
                    entry.business_date, entry.created_at, [member_party(payment.payer, amount)], payees, lines)


def refund_movement(refund: Refund) -> Movement:
    """Money back to the payer, from the payees, the platform's fee and escrow as the refund took it."""
    entry = _entry(refund.entry_id)
    payers, payees = _entry_parties(refund.entry_id, refund.merchant)
    lines = [(_("Reason"), refund.reason), (_("Original payment"), refund.payment.order_no)]
    return Movement(ReceiptKind.REFUND, refund.pk, refund.merchant, refund.amount, refund.payment.order_no,
                    entry.business_date, entry.created_at, payers, payees, lines)


def deposit_movement(deposit: Deposit) -> Movement:
    """The member's money arrived in the supervision account, on their virtual account."""
    if deposit.status != Deposit.Status.SUCCEEDED or not deposit.entry_id:
        raise InvalidState(_("The deposit has not been credited (it is “%(status)s”).")
                           % {"status": deposit.get_status_display()})
    entry = _entry(deposit.entry_id)
    merchant = deposit.merchant
    via = deposit.channel.name if deposit.channel_id else deposit.get_method_display()
    account = merchant.supervision_account_number or ""
    payee_detail = _("virtual account in supervision account %(number)s of %(legal_name)s") % {
        "number": mask_card(account), "legal_name": merchant.legal_name}
    lines = [(_("Method"), via), (_("Payment code"), deposit.payment_code)]
    return Movement(ReceiptKind.DEPOSIT, deposit.pk, merchant, deposit.amount, deposit.order_no,
                    entry.business_date, entry.created_at, [member_party(deposit.member, deposit.amount, via)],
                    [member_party(deposit.member, deposit.amount, payee_detail)], lines)


def withdrawal_movement(withdrawal: Withdrawal) -> Movement:
    """The member's money left the supervision account for their bank card."""
    if withdrawal.status != Withdrawal.Status.PAID or not withdrawal.final_entry_id:
        raise InvalidState(_("The withdrawal has not been paid (it is “%(status)s”).")
                           % {"status": withdrawal.get_status_display()})
    entry = _entry(withdrawal.final_entry_id)
    card = withdrawal.bank_card
    payee = Party(card.account_name, f"{card.bank_name} {card.masked_number}", withdrawal.amount)
    lines = [(_("Value date"), date_format(withdrawal.value_date, "Y-m-d"))]
    if withdrawal.bank_reference:
        lines.append((_("Bank reference"), withdrawal.bank_reference))
    return Movement(ReceiptKind.WITHDRAWAL, withdrawal.pk, withdrawal.merchant, withdrawal.amount,
                    withdrawal.order_no, entry.business_date, entry.created_at,
                    [member_party(withdrawal.member, withdrawal.amount)], [payee], lines)


# --- look-ups by id, scoped to what the caller may see -------------------------------------

def _get(qs, pk):
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound()
    return obj


def find_movement(kind: str, pk: int, *, merchants, part: int | None = None, payment_pk: int | None = None) -> Movement:
    """The movement of `kind` with id `pk` among `merchants` (a queryset, or one merchant); 404
    for any other merchant's row. A release is found by its payment (`pk`) and part; a refund
    also by its payment when `payment_pk` is given (the API's nested path). In Simplified
    Chinese, like the receipt it is printed on (and so are its refusals)."""
    with translation.override("zh-hans"):
        return _find(kind, pk, merchants=merchants, part=part, payment_pk=payment_pk)


def _find(kind, pk, *, merchants, part, payment_pk) -> Movement:
    scope = {"merchant__in": merchants} if hasattr(merchants, "model") else {"merchant": merchants}
    if kind in (ReceiptKind.PAYMENT, ReceiptKind.RELEASE):
        payment = _get(Payment.objects.filter(**scope).select_related("merchant", "payer"), pk)
        return payment_movement(payment) if kind == ReceiptKind.PAYMENT else release_movement(payment, part)
    if kind == ReceiptKind.REFUND:
        qs = Refund.objects.filter(**scope).select_related("merchant", "payment")
        if payment_pk is not None:
            qs = qs.filter(payment_id=payment_pk)
        return refund_movement(_get(qs, pk))
    if kind == ReceiptKind.DEPOSIT:
        return deposit_movement(_get(Deposit.objects.filter(**scope).select_related("merchant", "member",
                                                                                     "channel"), pk))
    if kind == ReceiptKind.WITHDRAWAL:
        return withdrawal_movement(_get(Withdrawal.objects.filter(**scope).select_related(
            "merchant", "member", "bank_card"), pk))
    raise NotFound()
