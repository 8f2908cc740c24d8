"""THE permission matrix: every admin page and action × every role → allowed or refused.

This table is the specification; tests/security/test_permission_matrix.py checks the running
portal against it, row by row. Roles: rm (relationship manager), risk (risk officer), ops
(operations), auditor, none (a staff user in no group)."""

ALL = {"rm", "risk", "ops", "auditor"}
BANK_WIDE = {"risk", "ops", "auditor"}
NOBODY: set = set()

# (model label, page) -> roles that may open it. page: "changelist" | "add".
PAGES = {
    ("merchants.merchant", "changelist"): ALL,
    ("merchants.merchant", "add"): {"rm"},
    ("merchants.member", "changelist"): ALL,
    ("merchants.member", "add"): NOBODY,  # platforms register members through the API
    ("merchants.webhookdelivery", "changelist"): ALL,
    ("ledger.account", "changelist"): ALL,
    ("ledger.journalentry", "changelist"): ALL,
    ("ledger.journalentry", "add"): NOBODY,  # entries come only from the services
    ("ledger.deposit", "changelist"): ALL,
    ("ledger.payment", "changelist"): ALL,
    ("ledger.refund", "changelist"): ALL,
    ("ledger.withdrawal", "changelist"): ALL,
    ("ledger.withdrawal", "add"): {"risk"},  # a closing payout (the member's whole balance, then closed)
    ("ledger.hold", "changelist"): ALL,
    ("ledger.hold", "add"): {"risk"},
    ("ledger.businessday", "changelist"): ALL,
    ("ledger.businessday", "add"): {"ops"},
    ("ledger.paymentchannel", "changelist"): ALL,
    ("ledger.paymentchannel", "add"): {"ops"},
    ("reconciliation.statementbatch", "changelist"): ALL,
    ("reconciliation.statementline", "changelist"): ALL,
    ("reconciliation.exceptionqueueitem", "changelist"): ALL,
    ("reconciliation.eodrun", "changelist"): ALL,
    ("reconciliation.discrepancycase", "changelist"): ALL,
    ("reconciliation.orderfile", "changelist"): ALL,
    ("reconciliation.statementlayout", "changelist"): ALL,
    ("reconciliation.statementlayout", "add"): {"ops"},
    ("credit.creditapplication", "changelist"): ALL,
    ("credit.creditapplication", "add"): {"rm"},
    ("credit.creditline", "changelist"): ALL,
    ("credit.creditbill", "changelist"): ALL,
    ("core.auditevent", "changelist"): BANK_WIDE,
    ("core.auditevent", "add"): NOBODY,
    ("auth.user", "changelist"): NOBODY,  # superusers only
    ("otp_totp.totpdevice", "changelist"): NOBODY,
    ("axes.accessattempt", "changelist"): NOBODY,
    ("django_celery_beat.periodictask", "changelist"): NOBODY,
}

# Workflow actions: (model, transition) -> roles that may take it (on an object in the right
# state, of a merchant in the RM's own portfolio).
ACTIONS = {
    ("merchant", "submit"): {"rm"},
    ("merchant", "approve"): {"risk"},
    ("merchant", "reject"): {"risk"},
    ("merchant", "activate"): {"ops"},
    ("merchant", "freeze"): {"risk"},
    ("member", "freeze"): {"risk"},
    ("withdrawal", "approve"): {"risk", "ops"},
    ("withdrawal", "reject"): {"risk", "ops"},
    ("withdrawal", "process"): {"ops"},
}

# Another RM's merchant, reached by URL, is refused.
CROSS_PORTFOLIO_REFUSED = True
