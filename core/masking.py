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


def mask_name(value):  # 张三 -> 张*, 欧阳娜娜 -> 欧**娜, 山东齐鲁商贸有限公司 -> 山东******公司
    """A person's or a company's name, recognisable to its owner and to no one else: a short
    name keeps its first (and from three characters its last) character, a long one a fifth
    at each end (at most four)."""
    value = " ".join((value or "").split())
    if len(value) <= 2:
        return value[:1] + "*" if len(value) == 2 else "*" * len(value)
    keep = 1 if len(value) <= 6 else min(4, len(value) // 5)
    return mask_middle(value, keep, keep)
