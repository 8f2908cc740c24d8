"""Complaint look-up (客户投诉查询): one search box, the full story of the money.

A customer of a platform calls the bank: "I paid order 8842 and the seller says nothing
arrived". Staff type whatever the customer has — an order number, a payment code, the
platform's user id, a phone number (matched through its blind index, or as the masked form
138****5678; the raw phone is never shown), a bank reference, or a journal entry id — and see,
across the merchants they may see, every order it names with its journal entries (and their
postings), the bank statement lines that prove the money moved, and the receipts.

A fixed number of queries whatever matches: first the keys are found (one query per kind of
key), then every story's rows are loaded in bulk. Only the look-up service writes (the audit
record): see backoffice.services.complaint_lookup."""
import re
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.crypto import blind_index
from core.masking import mask_phone
from credit.models import CreditBill
from ledger.models import Deposit, JournalEntry, Payment, PaymentRelease, Posting, Refund, Withdrawal
from ledger.selectors import members_balances, with_running_balances
from merchants.models import Member
from merchants.selectors import merchants_visible_to
from reconciliation.models import StatementLine

MAX_STORIES = 30
MEMBER_ENTRIES = 20
MIN_QUERY = 3
_PHONE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)")


def normalised_phone(text: str) -> str | None:
    compact = re.sub(r"[\s-]", "", text)
    match = _PHONE.fullmatch(compact)
    return match.group(1) if match else None


def mask_query(text: str) -> str:
    """The query as the audit trail keeps it: phone numbers masked (also one typed with spaces,
    dashes or +86, which the look-up understands too)."""
    phone = normalised_phone(text)
    if phone:
        return mask_phone(phone)
    return _PHONE.sub(lambda m: mask_phone(m.group(1)), text)


@dataclass
class StoryOrder:
    kind: str
    label: str
    obj: object
    amount: object
    status: str
    status_label: str
    url: str


@dataclass
class Story:
    key: tuple
    merchant: object
    order_no: str = ""
    orders: list = field(default_factory=list)
    entries: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    receipts: list = field(default_factory=list)  # [(label, url)]
    members: dict = field(default_factory=dict)


@dataclass
class LookupResult:
    query: str
    matched_by: list = field(default_factory=list)  # kinds of key that matched
    members: list = field(default_factory=list)
    stories: list = field(default_factory=list)
    truncated: bool = False

    @property
    def count(self) -> int:
        return len(self.stories) + len(self.members)


def _url(name, pk):
    return reverse(f"admin:{name}_change", args=[pk])


def find(user, query: str) -> LookupResult:
    """The look-up itself (read-only). The view calls backoffice.services.complaint_lookup,
    which runs this and writes the audit record."""
    q = (query or "").strip()[:100]
    result = LookupResult(query=q)
    if len(q) < MIN_QUERY and not q.lstrip("#").isdigit():  # an entry id may be short
        return result
    visible = merchants_visible_to(user)
    upper = q.upper()
    pairs: set[tuple[int, str]] = set()
    matched: list[str] = []

    def hit(kind, rows):
        rows = list(rows)
        if rows:
            matched.append(kind)
        return rows

    # 1. Which orders does the query name? One query per kind of key.
    for row in hit("order_or_payment_code", Deposit.objects.filter(merchant__in=visible).filter(
            Q(order_no=q) | Q(payment_code=upper)).values_list("merchant_id", "order_no")):
        pairs.add(row)
    pairs.update(hit("order", Payment.objects.filter(merchant__in=visible, order_no=q)
                     .values_list("merchant_id", "order_no")))
    pairs.update(hit("order_or_bank_reference", Withdrawal.objects.filter(merchant__in=visible).filter(
        Q(order_no=q) | Q(bank_reference=q)).values_list("merchant_id", "order_no")))
    pairs.update(hit("order", CreditBill.objects.filter(merchant__in=visible, order_no=q)
                     .values_list("merchant_id", "order_no")))
    entry_id = int(q.lstrip("#")) if q.lstrip("#").isdigit() and len(q.lstrip("#")) < 19 else None
    entry_q = Q(order_no=q) | (Q(pk=entry_id) if entry_id else Q(pk__in=[]))
    direct_entries = hit("order_or_entry", JournalEntry.objects.filter(merchant__in=visible).filter(entry_q)
                         .values_list("pk", "merchant_id", "order_no"))
    direct_lines = hit("bank_reference", StatementLine.objects.filter(merchant__in=visible, bank_reference=q)
                       .values_list("pk", flat=True))
    member_q = Q(user_id=q)
    phone = normalised_phone(q)
    if phone:
        member_q |= Q(phone_index=blind_index(phone))
    if "*" in q:
        member_q |= Q(phone_masked=q)
    members = hit("member", Member.objects.filter(merchant__in=visible).filter(member_q)
                  .select_related("merchant").order_by("merchant__code", "user_id")[:MAX_STORIES])
    result.members, result.matched_by = members, sorted(set(matched))
    if members:
        _attach_balances(members)

    entry_ids = {pk for pk, _m, _o in direct_entries}
    for _pk, merchant_id, order_no in direct_entries:
        if order_no:
            pairs.add((merchant_id, order_no))
    if members:
        member_ids = [m.pk for m in members]
        for pk, merchant_id, order_no in (JournalEntry.objects.filter(Q(payer_id__in=member_ids)
                                                                      | Q(payee_id__in=member_ids))
                                          .order_by("-id").values_list("pk", "merchant_id", "order_no")
                                          [:MEMBER_ENTRIES]):
            if order_no:
                pairs.add((merchant_id, order_no))
            else:
                entry_ids.add(pk)
    if len(pairs) > MAX_STORIES:
        result.truncated = True
        pairs = set(sorted(pairs)[:MAX_STORIES])
    result.stories = _stories(visible, pairs, entry_ids, set(direct_lines))
    return result


def _attach_balances(members):
    """member.available / member.frozen_balance now (pending hot deltas included), in one query."""
    balances = members_balances([m.pk for m in members])
    for m in members:
        m.available, m.frozen_balance = balances[m.pk]["available"], balances[m.pk]["frozen"]


def _stories(visible, pairs, entry_ids, line_ids) -> list:
    """Load every row of every story in bulk (a fixed number of queries)."""
    if not (pairs or entry_ids or line_ids):
        return []
    merchant_ids = {m for m, _o in pairs}
    order_nos = {o for _m, o in pairs}

    def by_pair(qs):
        return [x for x in qs.filter(merchant_id__in=merchant_ids, order_no__in=order_nos)
                if (x.merchant_id, x.order_no) in pairs] if pairs else []

    deposits = by_pair(Deposit.objects.filter(merchant__in=visible).select_related("merchant", "member"))
    payments = by_pair(Payment.objects.filter(merchant__in=visible).select_related("merchant", "payer"))
    withdrawals = by_pair(Withdrawal.objects.filter(merchant__in=visible).select_related("merchant", "member",
                                                                                         "bank_card"))
    bills = by_pair(CreditBill.objects.filter(merchant__in=visible).select_related("merchant", "member", "payee"))
    refunds = list(Refund.objects.filter(payment__in=[p.pk for p in payments]).order_by("id"))
    # Every release of a guaranteed payment: one, or one per part of a staged release.
    releases = list(PaymentRelease.objects.filter(payment__in=[p.pk for p in payments]).order_by("payment", "sequence"))
    lines = list(StatementLine.objects.filter(merchant__in=visible).filter(
        Q(pk__in=line_ids) | Q(deposit_id__in=[d.pk for d in deposits])
        | Q(withdrawal_id__in=[w.pk for w in withdrawals])).select_related("merchant", "batch").order_by("id"))
    linked = set(entry_ids)
    for obj in deposits:
        linked.add(obj.entry_id)
    for obj in payments:
        linked.update((obj.entry_id, obj.release_entry_id))
    for obj in releases:
        linked.add(obj.entry_id)
    for obj in withdrawals:
        linked.update((obj.request_entry_id, obj.final_entry_id))
    for obj in refunds + bills:
        linked.add(obj.entry_id)
    for obj in lines:
        linked.update((obj.entry_id, obj.suspense_entry_id))
    linked.discard(None)
    entry_filter = Q(pk__in=linked)
    if pairs:
        entry_filter |= Q(merchant_id__in=merchant_ids, order_no__in=order_nos)
    postings = Prefetch("postings", queryset=Posting.objects.select_related("account", "account__member")
                        .order_by("id"))
    entries = [e for e in JournalEntry.objects.filter(merchant__in=visible).filter(entry_filter)
               .select_related("merchant", "payer", "payee").prefetch_related(postings).order_by("id")
               if e.pk in linked or (e.merchant_id, e.order_no) in pairs]
    # A member's posting booked hot stores no balance after: computed (one query, only if any).
    with_running_balances([p for e in entries for p in e.postings.all()])

    stories: dict = {}

    def story(key, merchant, order_no=""):
        if key not in stories:
            stories[key] = Story(key=key, merchant=merchant, order_no=order_no)
        return stories[key]

    def add(kind, label, obj, url):
        s = story((obj.merchant_id, obj.order_no), obj.merchant, obj.order_no)
        s.orders.append(StoryOrder(kind, label, obj, obj.amount, obj.status, obj.get_status_display(), url))
        return s

    def receipt(kind, pk, part=None):  # the receipts app's PDF, downloaded in the admin
        url = reverse("admin:receipts_receipt_download", args=[kind, pk])
        return f"{url}?part={part}" if part else url

    for d in deposits:
        s = add("deposit", _("Deposit"), d, _url("ledger_deposit", d.pk))
        if d.status == Deposit.Status.SUCCEEDED and d.entry_id:
            s.receipts.append((_("Deposit receipt (PDF)"), receipt("deposit", d.pk)))
    for p in payments:
        s = add("payment", _("Payment"), p, _url("ledger_payment", p.pk))
        if p.entry_id:
            s.receipts.append((_("Payment receipt (PDF)"), receipt("payment", p.pk)))
        parts = [r for r in releases if r.payment_id == p.pk]
        for r in parts:
            label = (_("Release receipt, part %(part)s: %(amount)s (PDF)") % {"part": r.sequence, "amount": r.amount}
                     if len(parts) > 1 else _("Release receipt (PDF)"))
            s.receipts.append((label, receipt("release", p.pk, part=r.sequence)))
        if not parts and p.release_entry_id:
            s.receipts.append((_("Release receipt (PDF)"), receipt("release", p.pk)))
        for r in refunds:
            if r.payment_id == p.pk:
                s.receipts.append((_("Refund receipt %(amount)s (PDF)") % {"amount": r.amount},
                                   receipt("refund", r.pk)))
    for w in withdrawals:
        s = add("withdrawal", _("Withdrawal"), w, _url("ledger_withdrawal", w.pk))
        if w.status == Withdrawal.Status.PAID and w.final_entry_id:
            s.receipts.append((_("Withdrawal receipt (PDF)"), receipt("withdrawal", w.pk)))
    for b in bills:
        add("credit_bill", _("Credit bill"), b, _url("credit_creditbill", b.pk))
    entry_story = {}
    for e in entries:
        key = (e.merchant_id, e.order_no) if (e.merchant_id, e.order_no) in pairs else ("entry", e.pk)
        s = story(key, e.merchant, e.order_no)
        s.entries.append(e)
        entry_story[e.pk] = s
    deposit_story = {d.pk: stories[(d.merchant_id, d.order_no)] for d in deposits}
    withdrawal_story = {w.pk: stories[(w.merchant_id, w.order_no)] for w in withdrawals}
    for line in lines:
        s = (deposit_story.get(line.deposit_id) or withdrawal_story.get(line.withdrawal_id)
             or entry_story.get(line.entry_id) or entry_story.get(line.suspense_entry_id)
             or story(("line", line.pk), line.merchant))
        s.lines.append(line)
    for s in stories.values():
        s.entries.sort(key=lambda e: e.pk)
    return sorted(stories.values(), key=lambda s: (s.merchant.code, str(s.order_no), str(s.key)))
