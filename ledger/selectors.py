"""Reads of the ledger shared by the admin, the API, reconciliation and reports."""
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from core.admin_display import money
from core.money import ZERO, format_amount, quantize

from .models import Account, AccountKind, Deposit, HotBalanceDelta
from .models.accounts import MEMBER_KINDS

_MONEY = DecimalField(max_digits=18, decimal_places=2)

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


def pending_deltas(account_ref: str = "pk"):
    """Annotation: the sum of the account's hot-balance deltas not yet rolled up (0 when none).
    Any account may hold some, not only a hot one: a credit booked the hot way just before its
    account was made ordinary appends its delta after the flip (ledger.services.hot_flagging)."""
    return Coalesce(Subquery(HotBalanceDelta.objects.filter(account_id=OuterRef(account_ref)).order_by()
                             .values("account_id").annotate(total=Sum("change")).values("total")),
                    Value(ZERO), output_field=_MONEY)


def balance_now(account_ref: str = "pk", balance: str = "balance"):
    """Annotation: an account's balance now, the materialised balance plus its pending deltas —
    what every read of a balance shows (API, admin, checks, proofs)."""
    return F(balance) + pending_deltas(account_ref)


def member_balance(member) -> dict[str, Decimal]:
    """{"available", "frozen"} now, pending hot deltas included (a hot seller's credits show at
    once, not at the next roll-up). One query."""
    rows = dict(Account.objects.filter(member=member).annotate(now=balance_now()).values_list("kind", "now"))
    return {"available": _money(rows.get(AccountKind.MEMBER_AVAILABLE)),
            "frozen": _money(rows.get(AccountKind.MEMBER_FROZEN))}


def members_balances(member_ids) -> dict[int, dict[str, Decimal]]:
    """member_balance for several members in one query: member id -> {"available", "frozen"}."""
    result = {pk: {"available": ZERO, "frozen": ZERO} for pk in member_ids}
    rows = (Account.objects.filter(member_id__in=result, kind__in=MEMBER_KINDS).annotate(now=balance_now())
            .values_list("member_id", "kind", "now"))
    for member_id, kind, now in rows:
        result[member_id]["available" if kind == AccountKind.MEMBER_AVAILABLE else "frozen"] = _money(now)
    return result


# A posting booked the hot way (no row lock) has no balance_after. Its balance after is the account's
# balance now less every newer posting of the account — one statement, so the balance, the pending
# deltas and the postings come from one snapshot. The window runs from the oldest posting asked for up
# to the newest of the account (posting_account_recent_idx): cheap near the top of a statement, a
# range scan of the account's newer postings for a page deep in its history.
_RUNNING_SQL = """
SELECT w.id, w.now - w.newer FROM (
  SELECT p.id, a.balance + COALESCE(d.total, 0) AS now,
         COALESCE(SUM(CASE WHEN a.kind = 'supervision' THEN p.amount ELSE -p.amount END)
                  OVER (PARTITION BY p.account_id ORDER BY p.id DESC
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS newer
  FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id
  LEFT JOIN (SELECT account_id, SUM(change) AS total FROM ledger_hotbalancedelta
             WHERE account_id IN ({accounts}) GROUP BY account_id) d ON d.account_id = a.id
  WHERE {ranges}
) w WHERE w.id IN ({wanted})
"""


def with_running_balances(postings, *, kinds=MEMBER_KINDS) -> list:
    """Set `running_balance` on each posting (its `account` loaded): the balance after it, as a
    statement shows it. A posting that stored one (an ordinary account's, booked under its row lock)
    keeps it; one booked the hot way on an account of `kinds` gets it computed (see _RUNNING_SQL),
    at most one query for all; others (a platform hot account's, whose newer postings are every
    movement of the merchant) stay None. Returns the postings."""
    postings = list(postings)
    oldest: dict[int, int] = {}
    for p in postings:
        p.running_balance = p.balance_after
        if p.balance_after is None and p.account.kind in kinds:
            oldest[p.account_id] = min(p.pk, oldest.get(p.account_id, p.pk))
    if not oldest:
        return postings
    wanted = [p.pk for p in postings if p.account_id in oldest and p.balance_after is None]
    sql = _RUNNING_SQL.format(accounts=", ".join(["%s"] * len(oldest)), wanted=", ".join(["%s"] * len(wanted)),
                              ranges=" OR ".join(["(p.account_id = %s AND p.id >= %s)"] * len(oldest)))
    params = [*oldest, *(x for pair in oldest.items() for x in pair), *wanted]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        computed = {pk: _money(balance) for pk, balance in cursor.fetchall()}
    for p in postings:
        if p.pk in computed:
            p.running_balance = computed[p.pk]
    return postings


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
