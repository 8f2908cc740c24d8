"""Merchants and members.

A merchant moves draft → submitted → approved | rejected → active ⇄ frozen → closing → closed.
The relationship manager prepares and submits; a risk officer — never the submitter —
approves or rejects; operations activate (which opens the supervision account and issues API
credentials). Members are the platform's users, keyed by the platform's own user id."""
from .challenges import Challenge  # noqa: F401
from .members import BankCard, Member, MemberKind, MicroDeposit  # noqa: F401
from .merchants import ApiSecret, BusinessType, Merchant, RiskLevel  # noqa: F401
from .webhooks import WebhookAttempt, WebhookDelivery  # noqa: F401
