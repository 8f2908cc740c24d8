"""Settings shared by every environment, all from the environment (django-environ).

Fail closed: debug is off unless DJANGO_DEBUG says otherwise, and with debug off the secret key
is required. Which module runs:

- `config.settings.production` — the default of every server entry point (wsgi, asgi, Celery,
  manage.py): debug always off; refuses to start without DJANGO_SECRET_KEY, JIANGUAN_FIELD_KEYS
  and a DATABASE_URL.
- `config.settings.local` — the quick start (`bin/run`) and local commands: debug on, a dev-only
  secret, a SQLite file beside the project, Celery tasks run eagerly.
- `config.settings.test` — the test suite (pytest.ini).

Production sets DATABASE_URL=postgres://..., DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS,
CELERY_BROKER_URL=redis://... and JIANGUAN_FIELD_KEYS; `manage.py check --deploy` is then clean.
"""
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DJANGO_DEBUG", default=False)
_DEV_SECRET = "dev-only-insecure-key-for-the-embedded-quick-start-never-in-production-0123456789"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set when debug is off (production settings). For the local quick "
        "start use bin/run, or DJANGO_SETTINGS_MODULE=config.settings.local.")
if SECRET_KEY == _DEV_SECRET and not DEBUG:
    raise ImproperlyConfigured("The public development secret key may not be used with debug off.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_celery_beat",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "core",
    "merchants",
    "ledger",
    "credit",
    "reconciliation",
    "risk",
    "receipts",
    "demo",  # seed_demo (no models)
    "bench",  # the benchmark command (no models)
    "payouts",
    "backoffice",  # last: it builds on every other app (and core syncs the roles after it)
]

MIDDLEWARE = [
    # First: whatever goes wrong under /api/ (even with DEBUG on), a platform gets the JSON envelope.
    "core.api.middleware.APIErrorEnvelopeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.security.StaffSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Staff pages default to LANGUAGE_CODE (Simplified Chinese) whatever the browser asks;
    # the language switcher's cookie still wins (backoffice.middleware).
    "backoffice.middleware.StaffLanguageMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'jianguan.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the lock when the transaction starts, so two writers never deadlock
    # on an upgrade from a shared lock; concurrency guarantees are proven on PostgreSQL.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database host that vanishes without refusing connections answers 503 database_unavailable
    # after this long, instead of holding the request until gunicorn's worker timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("JIANGUAN_DB_CONNECT_TIMEOUT", default=5))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# Dates as 2026-11-25 in both languages (config/formats/<locale>/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGIN_URL = "admin:login"

# --- Security: on whenever debug is off -------------------------------------------------
SESSION_COOKIE_AGE = env.int("JIANGUAN_SESSION_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True  # the timeout counts from the last request: inactivity
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# --- Staff sign-in: password + TOTP second factor, lockout after repeated failures ----------
# Production (debug off) always requires the second factor; only the debug quick start may
# turn it off (JIANGUAN_REQUIRE_2FA=false).
JIANGUAN_REQUIRE_2FA = True if not DEBUG else env.bool("JIANGUAN_REQUIRE_2FA", default=False)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("JIANGUAN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("JIANGUAN_LOGIN_COOLOFF_HOURS", default=0.5)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
OTP_TOTP_ISSUER = "Jianguan"

# Content security policy (django-csp): nothing is loaded from outside the portal. The admin
# theme's Alpine.js needs inline and eval'd script; styles are inline too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-inline'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Field encryption (identity numbers, phones, card numbers, API secrets) -----------
# Comma-separated Fernet keys, newest first; older keys still decrypt (key rotation).
JIANGUAN_FIELD_KEYS = env.list("JIANGUAN_FIELD_KEYS", default=[])

# --- Jianguan business settings ---------------------------------------------------------
JIANGUAN = {
    "SUPERVISION_ACCOUNT_PREFIX": env.str("JIANGUAN_SUPERVISION_ACCOUNT_PREFIX", default="6228480"),
    "SUPERVISION_ACCOUNT_GENERATOR": env.str(
        "JIANGUAN_SUPERVISION_ACCOUNT_GENERATOR",
        default="merchants.account_numbers.sequential_luhn",
    ),
    "SUPERVISION_BANK_NAME": env.str("JIANGUAN_BANK_NAME", default="Jianguan Commercial Bank"),
    "SECRET_ROTATION_OVERLAP_HOURS": env.int("JIANGUAN_SECRET_OVERLAP_HOURS", default=24),
    "GUARANTEE_AUTO_RELEASE_DAYS": env.int("JIANGUAN_AUTO_RELEASE_DAYS", default=7),
    # On PostgreSQL a payment is booked by one call of the database's booking function
    # (ledger.sql.booking); off, by the Python posting engine (the same books: a parity test).
    "BOOK_IN_DATABASE": env.bool("JIANGUAN_BOOK_IN_DATABASE", default=True),
    "DAILY_CUTOFF": env.str("JIANGUAN_DAILY_CUTOFF", default="16:30"),
    # Payout batches are built this many minutes before the cut-off, and in the morning at this time.
    "PAYOUT_BUILD_LEAD_MINUTES": env.int("JIANGUAN_PAYOUT_BUILD_LEAD_MINUTES", default=5),
    "PAYOUT_MORNING_BUILD": env.str("JIANGUAN_PAYOUT_MORNING_BUILD", default="09:25"),
    "CREDIT_SECOND_APPROVAL_ABOVE": env.str("JIANGUAN_CREDIT_SECOND_APPROVAL_ABOVE", default="1000000.00"),
    "API_MAX_BODY_BYTES": env.int("JIANGUAN_API_MAX_BODY_BYTES", default=2_621_440),
    "WEBHOOK_ALLOW_HTTP": DEBUG,  # outside debug, webhooks go to https:// URLs only
    "DEPOSIT_EXPIRY_DAYS": env.int("JIANGUAN_DEPOSIT_EXPIRY_DAYS", default=7),
    # Receipts (receipts/): the verification code's key (set it so printed receipts outlive a
    # SECRET_KEY rotation), the public address their QR codes point at, the CJK font, and the
    # verification page's allowance per client address and minute.
    "RECEIPT_KEY": env.str("JIANGUAN_RECEIPT_KEY", default=""),
    "PUBLIC_BASE_URL": env.str("JIANGUAN_PUBLIC_BASE_URL", default=""),
    "RECEIPT_FONT": env.str("JIANGUAN_RECEIPT_FONT", default="/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    "RECEIPT_VERIFY_PER_MINUTE": env.int("JIANGUAN_RECEIPT_VERIFY_PER_MINUTE", default=10),
    # One-time codes for members' outflows (merchants/sms.py, merchants/services/challenges.py):
    # the sender (an outbox in memory, the console, or an HTTP gateway at SMS_GATEWAY_URL with
    # SMS_GATEWAY_KEY as its bearer token), how long a code lives, how many wrong codes lock it.
    "SMS_BACKEND": env.str("JIANGUAN_SMS_BACKEND", default="merchants.sms.ConsoleBackend"),
    "SMS_GATEWAY_URL": env.str("JIANGUAN_SMS_GATEWAY_URL", default=""),
    "SMS_GATEWAY_KEY": env.str("JIANGUAN_SMS_GATEWAY_KEY", default=""),
    "OTP_TTL_SECONDS": env.int("JIANGUAN_OTP_TTL_SECONDS", default=300),
    "OTP_MAX_ATTEMPTS": env.int("JIANGUAN_OTP_MAX_ATTEMPTS", default=5),
    # The risk reserve (风险保证金, risk/services/reserve.py): while a platform's reserve is short of
    # its requirement, members' withdrawals above this amount are refused (reserve_shortfall).
    "RESERVE_SHORTFALL_WITHDRAWAL_LIMIT": env.str("JIANGUAN_RESERVE_SHORTFALL_WITHDRAWAL_LIMIT",
                                                  default="10000.00"),
    # Busy members' available accounts (a big seller's) take credits without a row lock, like the
    # platform's hot accounts (ledger.services.hot_flagging, beat every minute): an account is
    # marked hot when it took more than HOT_MEMBER_CREDITS_PER_MINUTE credits a minute over the
    # last HOT_MEMBER_WINDOW_MINUTES, and ordinary again once no such window was busy for
    # HOT_MEMBER_QUIET_HOURS (checked hourly) — unless a person marked it hot.
    "HOT_MEMBER_CREDITS_PER_MINUTE": env.int("JIANGUAN_HOT_MEMBER_CREDITS_PER_MINUTE", default=60),
    "HOT_MEMBER_WINDOW_MINUTES": env.int("JIANGUAN_HOT_MEMBER_WINDOW_MINUTES", default=10),
    "HOT_MEMBER_QUIET_HOURS": env.int("JIANGUAN_HOT_MEMBER_QUIET_HOURS", default=24),
}

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True  # a killed worker's task is delivered again; tasks are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# With Redis, a task taken by a worker that dies is delivered again only after this long
# (Redis's default is an hour). It must exceed the longest task and the longest retry
# countdown (retry_backoff caps at 600 s); every task is idempotent, so an early second
# delivery costs time, never money.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("JIANGUAN_TASK_REDELIVERY_SECONDS", default=1800)}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"

# --- REST framework (the platform API: core.api, <app>/api/) ------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.PlatformAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.StrictJSONParser"],
    # Platform endpoints authenticate with signed requests (core.api.views.PlatformAPIView);
    # the schema and docs views are public.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"platform": env.str("JIANGUAN_API_RATE", default="1200/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Jianguan platform API",
    "DESCRIPTION": "Signed REST API for platforms whose funds the bank supervises (contract v1). "
                   "Every request is signed (X-App-Id, X-Timestamp, X-Nonce, X-Signature); every POST that "
                   "creates or moves money takes an Idempotency-Key; every error is "
                   '{"error": {"code", "message", "details"}}; amounts are JSON strings such as "1250.00".',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "DepositStatusEnum": "ledger.models.deposits.Deposit.Status",
        "PaymentStatusEnum": "ledger.models.payments.Payment.Status",
        "WithdrawalStatusEnum": "ledger.models.withdrawals.Withdrawal.Status",
    },
    # Swagger UI and Redoc from local static files (drf-spectacular-sidecar), not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# Throttle counters (and any other cache use) must be shared by every web process in
# production: CACHE_URL=redis://host:6379/1 (or dbcache://jianguan_cache after
# `manage.py createcachetable`). The quick start's per-process memory cache is fine alone.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

from .admin_ui import UNFOLD  # noqa: E402,F401  the admin's look and sidebar
