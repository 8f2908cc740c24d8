"""The ledger: accounting model in ten lines.

- Per merchant, one supervision account (an asset: the real money at the bank) and virtual
  accounts (liabilities: what the bank owes the platform and each member): fee income,
  escrow, suspense, risk reserve, and per member an available and a frozen balance.
- Every movement is a JournalEntry with Postings; posting.amount is signed (debit > 0,
  credit < 0) and an entry's postings sum to zero (a deferred trigger refuses anything else).
- An account's natural balance is Σ debits − Σ credits for the asset, the opposite for
  liabilities; so Σ entries = 0 ⇔ supervision balance = Σ virtual balances (总分平衡).
- Materialised balances move in the posting transaction under row locks in id order; hot
  accounts (supervision, escrow, fee income) take credits without a lock as HotBalanceDelta
  rows that a roll-up folds in: balance = account.balance + Σ pending deltas.
- Postings and entries are append-only (database triggers); corrections are reversing entries.
"""
from .accounts import Account, AccountKind, HotBalanceDelta, JournalEntry, Posting, EntryType  # noqa: F401
from .calendar import BusinessDay  # noqa: F401
from .deposits import Deposit, PaymentChannel  # noqa: F401
from .holds import Hold  # noqa: F401
from .payments import Payment, PaymentRelease, PaymentSplit, Refund  # noqa: F401
from .withdrawals import Withdrawal  # noqa: F401
