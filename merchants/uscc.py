"""Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, the last a
check character computed modulo 31 over the first 17."""
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> None:
    value = (value or "").strip().upper()
    if len(value) != 18:
        raise ValidationError(_("A unified social credit code has 18 characters."), code="uscc_length")
    if any(ch not in ALPHABET for ch in value):
        raise ValidationError(
            _("A unified social credit code uses only digits and the letters A–Y except I, O, S, V and Z."),
            code="uscc_characters",
        )
    if check_character(value[:17]) != value[17]:
        raise ValidationError(_("The check character of the unified social credit code is wrong."), code="uscc_check")


def make_uscc(first17: str) -> str:
    """Complete 17 characters with their check character (demo data and tests)."""
    return first17 + check_character(first17)
