"""Test settings: the same as production-shaped base, faster hashing, eager tasks."""
from .base import *  # noqa: F401,F403
from .base import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
LANGUAGE_CODE = "en"
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
# pytest-django runs with DEBUG off, so the field key must be given (a fixed test-only key).
JIANGUAN_FIELD_KEYS = ["Tm90LWEtcmVhbC1rZXktdGVzdHMtb25seS0wMTIzNDU="]
