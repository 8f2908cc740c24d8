"""Fail closed. With real values, `manage.py check --deploy` reports nothing under the
production settings; every server entry point (gunicorn's wsgi, asgi, Celery, manage.py) runs the
production settings by default, and with nothing in the environment refuses to start, saying
what is missing — it never falls back to debug or to the public development secret."""
import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION = {
    "DJANGO_SECRET_KEY": "x7Vq9-production-like-secret-key-for-the-deploy-check-3kP0aZ8mN2bR5tY1wQ4e",
    "DJANGO_ALLOWED_HOSTS": "jianguan.bank.example",
    "JIANGUAN_FIELD_KEYS": "Tm90LWEtcmVhbC1rZXktdGVzdHMtb25seS0wMTIzNDU=",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "DATABASE_URL": "postgres://jianguan@127.0.0.1:1/never-connected",
}


def _bare_env(**extra) -> dict:
    """A server's environment with nothing of Jianguan's in it (no settings module, no debug)."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH", "VIRTUAL_ENV")}
    return {**keep, **extra}


def _manage(*args, env):
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests for Playwright; never in production
    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)


def _python(code: str, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings():
    env = _bare_env(**PRODUCTION)
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "JIANGUAN_FIELD_KEYS", "DATABASE_URL"])
def test_production_refuses_to_start_without_each_of_its_secrets(missing):
    env = _bare_env(**PRODUCTION)
    env.pop(missing)
    result = _manage("check", env=env)
    assert result.returncode != 0 and missing in result.stderr


@pytest.mark.parametrize("entry_point", ["import config.wsgi", "import config.asgi",
                                         "import config.celery; config.celery.app.loader.import_default_modules()"])
def test_a_server_entry_point_with_no_environment_fails_with_a_clear_message(entry_point):
    """Given a machine with nothing set (gunicorn started by hand, `gunicorn config.wsgi`), when the
    entry point loads, then it stops and names what it needs — no debug, no development secret."""
    result = _python(entry_point, _bare_env())
    assert result.returncode != 0
    assert "production settings need DJANGO_SECRET_KEY, JIANGUAN_FIELD_KEYS, DATABASE_URL" in result.stderr
    assert "config.settings.local" in result.stderr  # and says how to run locally


def test_manage_py_with_no_environment_is_production_too():
    result = _manage("check", env=_bare_env())
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_debug_even_when_asked():
    result = _manage("check", env=_bare_env(**PRODUCTION, DJANGO_DEBUG="true"))
    assert result.returncode != 0 and "debug never runs with the production settings" in result.stderr


@pytest.mark.parametrize("backend", ["merchants.sms.ConsoleBackend", "merchants.sms.OutboxBackend"])
def test_production_refuses_a_text_message_sender_that_would_keep_codes_in_a_log_or_in_memory(backend):
    result = _manage("check", env=_bare_env(**PRODUCTION, JIANGUAN_SMS_BACKEND=backend))
    assert result.returncode != 0 and "HttpGatewayBackend" in result.stderr


def test_production_sends_one_time_codes_through_the_gateway_by_default():
    code = "import django; django.setup(); from django.conf import settings; print(settings.JIANGUAN['SMS_BACKEND'])"
    result = _python(code, env=_bare_env(**PRODUCTION, DJANGO_SETTINGS_MODULE="config.settings.production"))
    assert result.stdout.strip() == "merchants.sms.HttpGatewayBackend", result.stderr


def test_the_public_development_secret_is_refused_with_debug_off():
    from config.settings.base import _DEV_SECRET

    result = _manage("check", env=_bare_env(**{**PRODUCTION, "DJANGO_SECRET_KEY": _DEV_SECRET}))
    assert result.returncode != 0 and "development secret" in result.stderr


def test_the_local_settings_turn_debug_on_explicitly():
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    result = _python(code, _bare_env(DJANGO_SETTINGS_MODULE="config.settings.local"))
    assert result.returncode == 0 and result.stdout.strip() == "True", result.stderr


def test_seed_demo_refuses_to_run_in_production():
    env = _bare_env(**{**PRODUCTION, "DATABASE_URL": "sqlite:////nonexistent/never-used.sqlite3"})
    result = _manage("seed_demo", env=env)
    assert result.returncode != 0 and "DJANGO_DEBUG" in result.stderr
