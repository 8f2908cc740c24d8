"""Pieces the credit models share: the creditor columns and the permission predicates."""
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MAX_TERM_DAYS = 365
MAX_GRACE_DAYS = 90
MAX_PENALTY_RATE = Decimal("0.010000")  # 1 % a day: anything above is a typing error


def penalty_rate_field():
    return models.DecimalField(_("penalty rate (daily)"), max_digits=7, decimal_places=6,
                               help_text=_("Daily rate on the outstanding principal, e.g. 0.000500 (0.05 %)."))


def creditor_constraint(prefix: str):
    """Exactly one creditor: the platform itself, or one seller member."""
    return models.CheckConstraint(
        condition=(Q(creditor_is_platform=True, creditor_member__isnull=True)
                   | Q(creditor_is_platform=False, creditor_member__isnull=False)),
        name=f"{prefix}_exactly_one_creditor",
    )


def terms_constraints(prefix: str):
    return [
        models.CheckConstraint(condition=Q(term_days__gte=1, term_days__lte=MAX_TERM_DAYS),
                               name=f"{prefix}_term_days_in_range"),
        models.CheckConstraint(condition=Q(grace_days__gte=0, grace_days__lte=MAX_GRACE_DAYS),
                               name=f"{prefix}_grace_days_in_range"),
        models.CheckConstraint(condition=Q(penalty_rate__gte=0, penalty_rate__lte=MAX_PENALTY_RATE),
                               name=f"{prefix}_penalty_rate_in_range"),
    ]


def _creditor_label(obj) -> str:
    if obj.creditor_is_platform:
        return str(_("the platform"))
    return str(obj.creditor_member)


# Assigned as a class attribute (not a mixin base, which migrations would have to import).
creditor_label = property(_creditor_label, doc="Who is owed: the platform or the seller member.")

