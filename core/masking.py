"""Masking for screens, exports, API answers and logs: identity numbers, phones, cards."""


def mask_middle(value: str | None, keep_start: int, keep_end: int) -> str:
    if not value:
        return ""
    value = value.strip()
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def mask_id_number(value):  # 110101199003071234 -> 110***********1234
    return mask_middle(value, 3, 4)


def mask_phone(value):  # 13812345678 -> 138****5678
    return mask_middle(value, 3, 4)


def mask_card(value):  # 6222020200112233445 -> 6222***********3445
    return mask_middle(value, 4, 4)
