"""The local quick start (bin/run) and local commands: debug on, the dev-only secret key, a
SQLite file beside the project unless DATABASE_URL is set, Celery tasks run eagerly.
Never a server's settings: every server entry point defaults to config.settings.production."""
import os

os.environ.setdefault("DJANGO_DEBUG", "true")

from .base import *  # noqa: E402,F401,F403
