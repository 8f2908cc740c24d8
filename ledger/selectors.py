"""Reads of the ledger shared by the admin, the API, reconciliation and reports."""
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.utils.translation import gettext_lazy as _

from core.admin_display import money
from core.money import ZERO, quantize

from .models import Account, AccountKind

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


def member_balance(member) -> dict[str, Decimal]:
    rows = dict(Account.objects.filter(member=member).values_list("kind", "balance"))
    return {"available": rows.get(AccountKind.MEMBER_AVAILABLE, ZERO),
            "frozen": rows.get(AccountKind.MEMBER_FROZEN, ZERO)}


def close_blockers(merchant) -> list:
    balances = account_balances(merchant)
    if any(balances.values()):
        return [_("the supervision account and every virtual account must be at zero (supervision: %(amount)s)")
                % {"amount": money(balances[AccountKind.SUPERVISION])}]
    return []


def merchant_admin_panels(merchant) -> list[dict]:
    if not Account.objects.filter(merchant=merchant).exists():
        return []
    proof = prove_merchant(merchant)
    balances = account_balances(merchant)
    member_total = balances[AccountKind.MEMBER_AVAILABLE] + balances[AccountKind.MEMBER_FROZEN]
    return [{
        "title": _("Total = sum of parts (总分平衡)"),
        "ok": proof.ok,
        "headline": _("Balanced: the supervision balance equals the sum of the virtual accounts.") if proof.ok
        else _("NOT balanced: investigate now."),
        "rows": [
            (_("Supervision account"), money(proof.supervision_balance)),
            (_("Sum of virtual accounts"), money(proof.virtual_total)),
            (_("Members (available + frozen)"), money(member_total)),
            (_("Escrow"), money(balances[AccountKind.ESCROW])),
            (_("Fee income"), money(balances[AccountKind.FEE_INCOME])),
            (_("Suspense"), money(balances[AccountKind.SUSPENSE])),
            (_("Risk reserve"), money(balances[AccountKind.RISK_RESERVE])),
            (_("Accounts whose balance ≠ sum of postings"), str(len(proof.mismatched_accounts))),
        ],
    }]
