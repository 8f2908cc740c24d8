"""Production: the default of every server entry point (config/wsgi.py, config/asgi.py,
config/celery.py, manage.py). Debug is always off; the process refuses to start, with a message
that names what is missing, without its secrets and its database."""
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

REQUIRED = ("DJANGO_SECRET_KEY", "JIANGUAN_FIELD_KEYS", "DATABASE_URL")
_LOCAL = "For the local quick start use bin/run, or DJANGO_SETTINGS_MODULE=config.settings.local."

_env = environ.Env()
_dotenv = Path(__file__).resolve().parent.parent.parent / ".env"
if _dotenv.exists():
    environ.Env.read_env(_dotenv, overwrite=False)
if _env.bool("DJANGO_DEBUG", default=False):
    raise ImproperlyConfigured("DJANGO_DEBUG is on, and debug never runs with the production settings. " + _LOCAL)
_missing = [name for name in REQUIRED if not _env.str(name, default="").strip()]
if _missing:
    raise ImproperlyConfigured("Jianguan's production settings need " + ", ".join(_missing)
                               + " in the environment (README, Configuration). " + _LOCAL)

from .base import *  # noqa: E402,F401,F403
from .base import JIANGUAN  # noqa: E402

# One-time codes reach members' phones only through a real gateway: the console and outbox
# senders would put live codes in a log or in memory.
if _env.str("JIANGUAN_SMS_BACKEND", default="") == "":
    JIANGUAN["SMS_BACKEND"] = "merchants.sms.HttpGatewayBackend"
if JIANGUAN["SMS_BACKEND"] in ("merchants.sms.ConsoleBackend", "merchants.sms.OutboxBackend"):
    raise ImproperlyConfigured("JIANGUAN_SMS_BACKEND " + JIANGUAN["SMS_BACKEND"] + " is for the quick start and "
                               "tests; production sends one-time codes through merchants.sms.HttpGatewayBackend. "
                               + _LOCAL)
