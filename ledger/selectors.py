"""Reads of the ledger shared by the admin, the API, reconciliation and reports."""
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from core.admin_display import money
from core.money import ZERO, format_amount, quantize

from .models import Account, AccountKind, Deposit

_BALANCES_SQL = """
SELECT a.id, a.kind, a.member_id, a.balance + COALESCE(d.total, 0) AS balance,
       CASE WHEN a.kind = 'supervision' THEN 1 ELSE -1 END * COALESCE(p.total, 0) AS posted
FROM ledger_account a
LEFT JOIN (SELECT account_id, SUM(change) AS total FROM ledger_hotbalancedelta
           WHERE merchant_id = %s GROUP BY account_id) d ON d.account_id = a.id
LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ledger_posting
           WHERE merchant_id = %s GROUP BY account_id) p ON p.account_id = a.id
WHERE a.merchant_id = %s
"""


def _money(value) -> Decimal:
    """SQLite returns SUMs of numeric columns as floats (6.67 -> 6.669999…); back to cents."""
    return quantize(Decimal(value or 0))


@dataclass
class BalanceProof:
    """总分平衡: the supervision balance equals the sum of the virtual balances, and every
    materialised balance equals the sum of its postings."""

    merchant_id: int
    supervision_balance: Decimal = ZERO
    virtual_total: Decimal = ZERO
    accounts: int = 0
    mismatched_accounts: list = field(default_factory=list)  # [(account id, materialised, posted)]

    @property
    def totals_balance(self) -> bool:
        return self.supervision_balance == self.virtual_total

    @property
    def postings_match(self) -> bool:
        return not self.mismatched_accounts

    @property
    def ok(self) -> bool:
        return self.totals_balance and self.postings_match


def prove_merchant(merchant) -> BalanceProof:
    proof = BalanceProof(merchant_id=merchant.pk)
    with connection.cursor() as cursor:
        cursor.execute(_BALANCES_SQL, [merchant.pk] * 3)
        for account_id, kind, _member, balance, posted in cursor.fetchall():
            balance, posted = _money(balance), _money(posted)
            proof.accounts += 1
            if kind == AccountKind.SUPERVISION:
                proof.supervision_balance += balance
            else:
                proof.virtual_total += balance
            if balance != posted:
                proof.mismatched_accounts.append((account_id, balance, posted))
    return proof


@dataclass
class BalanceTotals:
    """总分平衡 as a page shows it: from the materialised balances plus the hot-account changes
    not yet rolled up — one query over the merchant's accounts, whatever the size of its history.
    Whether every balance equals the sum of its postings is the full proof's business
    (prove_merchant: end of day, verify_integrity, the nightly check), never a page's."""

    merchant_id: int
    balances: dict  # kind -> balance now (materialised + pending deltas)
    pending_changes: int = 0  # hot-account deltas not yet folded into their balances
    pending_amount: Decimal = ZERO  # their sum, signed as the accounts' balances

    @property
    def supervision_balance(self) -> Decimal:
        return self.balances[AccountKind.SUPERVISION]

    @property
    def virtual_total(self) -> Decimal:
        return sum((v for k, v in self.balances.items() if k != AccountKind.SUPERVISION), ZERO)

    @property
    def member_total(self) -> Decimal:
        return self.balances[AccountKind.MEMBER_AVAILABLE] + self.balances[AccountKind.MEMBER_FROZEN]

    @property
    def totals_balance(self) -> bool:
        return self.supervision_balance == self.virtual_total


def balance_totals(merchant) -> BalanceTotals:
    """One query: balances by kind (hot deltas included) and the deltas still pending."""
    totals = BalanceTotals(merchant_id=merchant.pk, balances={kind: ZERO for kind in AccountKind.values})
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT a.kind, SUM(a.balance + COALESCE(d.total, 0)), SUM(COALESCE(d.n, 0)), SUM(COALESCE(d.total, 0))
               FROM ledger_account a
               LEFT JOIN (SELECT account_id, SUM(change) AS total, COUNT(*) AS n FROM ledger_hotbalancedelta
                          WHERE merchant_id = %s GROUP BY account_id) d ON d.account_id = a.id
               WHERE a.merchant_id = %s GROUP BY a.kind""",
            [merchant.pk, merchant.pk],
        )
        for kind, balance, pending, pending_amount in cursor.fetchall():
            totals.balances[kind] = _money(balance)
            totals.pending_changes += int(pending or 0)
            totals.pending_amount += _money(pending_amount)
    return totals


def account_balances(merchant) -> dict[str, Decimal]:
    """Platform-level balances by kind, and the member total, hot deltas included."""
    result = {kind: ZERO for kind in AccountKind.values}
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT a.kind, SUM(a.balance + COALESCE(d.total, 0)) FROM ledger_account a
               LEFT JOIN (SELECT account_id, SUM(change) AS total FROM ledger_hotbalancedelta
                          WHERE merchant_id = %s GROUP BY account_id) d ON d.account_id = a.id
               WHERE a.merchant_id = %s GROUP BY a.kind""",
            [merchant.pk, merchant.pk],
        )
        for kind, total in cursor.fetchall():
            result[kind] = _money(total)
    return result


def member_account_ids(member) -> list[int]:
    """Ids of the member's accounts (available, frozen); none for a member whose accounts are not
    open yet — a read never opens them (merchants.hooks.on_member_created does, or a writer)."""
    return list(Account.objects.filter(member=member).values_list("pk", flat=True))


def member_balance(member) -> dict[str, Decimal]:
    rows = dict(Account.objects.filter(member=member).values_list("kind", "balance"))
    return {"available": rows.get(AccountKind.MEMBER_AVAILABLE, ZERO),
            "frozen": rows.get(AccountKind.MEMBER_FROZEN, ZERO)}


def member_close_blockers(member) -> list:
    """What the ledger holds of a member that closing would strand (merchants.hooks.member_close_checks):
    money in their accounts (withdrawals in flight are in the frozen balance), and deposits still
    announced (money that may yet arrive for them)."""
    from .models import Deposit

    balance = member_balance(member)
    problems = []
    if balance["available"] or balance["frozen"]:
        problems.append(_("their balance is not zero (available %(available)s, frozen %(frozen)s): pay it out to a "
                          "verified card first") % {"available": format_amount(balance["available"]),
                                                    "frozen": format_amount(balance["frozen"])})
    waiting = Deposit.objects.filter(member=member, status=Deposit.Status.AWAITING_FUNDS).count()
    if waiting:
        problems.append(_("%(n)s announced deposit(s) may still be paid: cancel them or let them expire")
                        % {"n": waiting})
    return problems


# --- risk reserve (风险保证金) -------------------------------------------------------------------

# Customers' money that reached the bank (what a percentage reserve is a share of): identified
# deposits and unidentified inflows parked in suspense. The reserve's own deposits are the platform's
# money, not its customers', and don't count.
CUSTOMER_INFLOW_TYPES = ("deposit", "suspense_in")


@dataclass(frozen=True)
class ReservePosition:
    required: Decimal
    balance: Decimal

    @property
    def shortfall(self) -> Decimal:
        """Required − balance, never below zero."""
        return max(self.required - self.balance, ZERO)


def reserve_position(merchant) -> ReservePosition:
    """The merchant's required reserve (Merchant.risk_reserve_required, kept by risk) and the reserve
    account's balance (an ordinary account: no hot deltas). One query."""
    balance = (Account.objects.filter(merchant_id=merchant.pk, member__isnull=True, kind=AccountKind.RISK_RESERVE)
               .values_list("balance", flat=True).first())
    return ReservePosition(required=merchant.risk_reserve_required or ZERO, balance=_money(balance))


def customer_inflows(merchant, start: datetime.date, end: datetime.date) -> Decimal:
    """Money in on the supervision account booked with business dates start..end (inclusive)."""
    from .models import Posting

    total = Posting.objects.filter(
        merchant_id=merchant.pk, account__kind=AccountKind.SUPERVISION, amount__gt=0,
        entry__business_date__gte=start, entry__business_date__lte=end,
        entry__entry_type__in=CUSTOMER_INFLOW_TYPES).aggregate(s=Sum("amount"))["s"]
    return _money(total)


def close_blockers(merchant) -> list:
    balances = account_balances(merchant)
    if any(balances.values()):
        return [_("the supervision account and every virtual account must be at zero (supervision: %(amount)s)")
                % {"amount": money(balances[AccountKind.SUPERVISION])}]
    return []


def merchant_admin_panels(merchant) -> list[dict]:
    """The merchant page's 总分平衡 panel, from balances (balance_totals): the page stays as fast
    at ten million postings as at ten. The last end of day's full proof is in its own panel
    (reconciliation), the nightly check on the operations dashboard."""
    if not Account.objects.filter(merchant=merchant).exists():
        return []
    totals = balance_totals(merchant)
    return [{
        "title": _("Total = sum of parts (总分平衡)"),
        "ok": totals.totals_balance,
        "headline": _("Balanced: the supervision balance equals the sum of the virtual accounts.")
        if totals.totals_balance else _("NOT balanced: investigate now."),
        "rows": [
            (_("Supervision account"), money(totals.supervision_balance)),
            (_("Sum of virtual accounts"), money(totals.virtual_total)),
            (_("Members (available + frozen)"), money(totals.member_total)),
            (_("Escrow"), money(totals.balances[AccountKind.ESCROW])),
            (_("Fee income"), money(totals.balances[AccountKind.FEE_INCOME])),
            (_("Suspense"), money(totals.balances[AccountKind.SUSPENSE])),
            (_("Risk reserve"), money(totals.balances[AccountKind.RISK_RESERVE])),
            (_("Hot-account changes not yet rolled up (included above)"), str(totals.pending_changes)),
            (_("Every balance against its postings"), _("proved at end of day and by the nightly integrity check")),
        ],
    }]


# --- channel settlement ----------------------------------------------------------------------

CHANNEL_PROOF = "channel_notification"


def channel_unsettled(merchant, channel, *, up_to: datetime.date | None = None):
    """The channel's deposits credited on its notification and not yet settled to the
    supervision account, oldest first (business date of the credit, then credit order)."""
    qs = Deposit.objects.filter(merchant_id=merchant.pk, channel=channel, status=Deposit.Status.SUCCEEDED,
                                proof_kind=CHANNEL_PROOF, settled_at__isnull=True)
    if up_to is not None:
        qs = qs.filter(entry__business_date__lte=up_to)
    return qs.order_by("entry__business_date", "entry_id")


def channel_in_transit(merchant, business_date: datetime.date) -> Decimal:
    """Money of the merchant's channel deposits that the books hold at the end of a business
    date but the bank does not yet: credited (entry business date up to the date) and not
    settled by a statement line with a value date up to it. The end of day subtracts it from
    the book supervision balance before comparing with the bank's closing balance."""
    total = (Deposit.objects.filter(merchant_id=merchant.pk, proof_kind=CHANNEL_PROOF,
                                    status=Deposit.Status.SUCCEEDED, entry__business_date__lte=business_date)
             .exclude(settlement_value_date__lte=business_date)
             .aggregate(s=Sum("amount"))["s"])
    return total or Decimal("0.00")
