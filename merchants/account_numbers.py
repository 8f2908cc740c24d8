"""Supervision account numbers. The generator is configurable
(JIANGUAN["SUPERVISION_ACCOUNT_GENERATOR"], a dotted path to a function taking the merchant);
the default is the bank's prefix, the merchant's id on 10 digits and a Luhn check digit."""
from django.conf import settings
from django.utils.module_loading import import_string


def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def sequential_luhn(merchant) -> str:
    body = settings.JIANGUAN["SUPERVISION_ACCOUNT_PREFIX"] + f"{merchant.pk:010d}"
    return body + luhn_digit(body)


def next_supervision_account_number(merchant) -> str:
    return import_string(settings.JIANGUAN["SUPERVISION_ACCOUNT_GENERATOR"])(merchant)
