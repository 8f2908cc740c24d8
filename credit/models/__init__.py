"""Credit rows. Every table carries its merchant; unique constraints are scoped by merchant.

Money flow (see credit.services.drawdowns for the full decision): a drawdown whose creditor
is the payee itself moves no money (the bill is the seller's receivable against the buyer);
otherwise the creditor's money (a seller's available balance, or the platform's fee income)
pays the payee through the ledger. Repayments always go buyer available → creditor."""
from .applications import CreditApplication  # noqa: F401
from .bills import CreditBill, PenaltyAccrual, Repayment  # noqa: F401
from .lines import CreditLine  # noqa: F401
from .notifications import CreditNotification  # noqa: F401
