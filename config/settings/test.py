"""Test settings: the local settings (pytest-django turns DEBUG off while tests run), faster
hashing, eager tasks, webhooks to the tests' own plain-HTTP receivers on 127.0.0.1."""
from .local import *  # noqa: F401,F403
from .local import DATABASES, JIANGUAN

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
LANGUAGE_CODE = "en"
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
# pytest-django runs with DEBUG off, so the keys are the tests' own (never the public development
# secret, which debug-off processes refuse — the tests' worker processes run with debug off).
SECRET_KEY = "test-only-secret-key-never-in-production-7f3c1a9e5b2d4c6e8a0f1b3d5c7e9a2b4d6f8a0c"
JIANGUAN_FIELD_KEYS = ["Tm90LWEtcmVhbC1rZXktdGVzdHMtb25seS0wMTIzNDU="]

JIANGUAN["WEBHOOK_ALLOW_HTTP"] = True  # receivers in tests are http://127.0.0.1:…
JIANGUAN["SMS_BACKEND"] = "merchants.sms.OutboxBackend"  # tests read one-time codes from the outbox
