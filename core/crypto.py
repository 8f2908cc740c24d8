"""Encryption at rest for identity numbers, phones, card numbers and API secrets.

Fernet (AES-128-CBC + HMAC-SHA256) with keys from JIANGUAN_FIELD_KEYS (newest first; older
keys still decrypt, so keys rotate without a migration). With debug on and no key set, a key
is derived from SECRET_KEY so the quick start works; production refuses to start without one."""
import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str, debug: bool) -> MultiFernet:
    if not keys:
        if not debug:
            raise ImproperlyConfigured("JIANGUAN_FIELD_KEYS must be set when DJANGO_DEBUG is off.")
        derived = base64.urlsafe_b64encode(hashlib.sha256(("field-key:" + secret_key).encode()).digest())
        keys = (derived.decode(),)
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.JIANGUAN_FIELD_KEYS), settings.SECRET_KEY, settings.DEBUG)


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured("An encrypted field could not be decrypted with the configured keys.") from None


def blind_index(text: str) -> str:
    """A keyed hash to look a value up (or enforce uniqueness) without decrypting every row."""
    key = hashlib.sha256(("blind-index:" + settings.SECRET_KEY).encode()).digest()
    import hmac

    return hmac.new(key, text.strip().encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; Python sees plain text. Not searchable: pair with a masked
    or blind-index column where look-ups are needed."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        return name, "core.crypto.EncryptedTextField", args, kwargs
