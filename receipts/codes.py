"""Receipt numbers and verification codes.

- The number is the movement's, not a counter's: business date, a letter for the kind and the
  movement's id (20261204P0000001234). The same movement always gets the same number, two
  movements never share one, and two first downloads at once cannot race for it.
- The verification code is an HMAC (SHA-256) of the number and the amount, keyed with
  JIANGUAN["RECEIPT_KEY"] (JIANGUAN_RECEIPT_KEY) or, when that is unset, a key derived from
  SECRET_KEY; the first 50 bits in 10 characters of an alphabet without 0/O and 1/I. Numbers
  are sequential, the code is not: without the key, a code can only be guessed (2^50), and
  the verification page is throttled. Set the key in production so that printed receipts
  keep verifying when the secret key is rotated."""
from decimal import Decimal

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols: 5 bits each
CODE_LENGTH = 10
KIND_LETTER = {"payment": "P", "release": "R", "refund": "F", "deposit": "D", "withdrawal": "W"}


def receipt_number(kind: str, movement_id: int, business_date) -> str:
    return f"{business_date:%Y%m%d}{KIND_LETTER[kind]}{movement_id:010d}"


def _key() -> str:
    return settings.JIANGUAN.get("RECEIPT_KEY") or settings.SECRET_KEY


def verification_code(number: str, amount: Decimal) -> str:
    digest = salted_hmac("jianguan.receipts.verification", f"{number}|{amount:.2f}", secret=_key(),
                         algorithm="sha256").digest()
    bits = int.from_bytes(digest[:8], "big") >> (64 - 5 * CODE_LENGTH)
    return "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))


def normalise_code(text: str) -> str:
    """As typed from paper: case, spaces and dashes do not matter."""
    return "".join(ch for ch in (text or "").upper() if ch not in " -")


def code_matches(number: str, amount: Decimal, text: str) -> bool:
    return constant_time_compare(verification_code(number, amount), normalise_code(text))
