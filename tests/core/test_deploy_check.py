"""With debug off and real values, `manage.py check --deploy` reports nothing, and production
refuses to start without its secrets."""
import os
import subprocess
import sys

from django.conf import settings

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x7Vq9-production-like-secret-key-for-the-deploy-check-3kP0aZ8mN2bR5tY1wQ4e",
    "DJANGO_ALLOWED_HOSTS": "jianguan.bank.example",
    "JIANGUAN_FIELD_KEYS": "Tm90LWEtcmVhbC1rZXktdGVzdHMtb25seS0wMTIzNDU=",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_SETTINGS_MODULE": "config.settings.base",
}


def _manage(*args, env):
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests for Playwright; never in production
    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings():
    env = {**os.environ, **PRODUCTION}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {**os.environ, **PRODUCTION}
    env.pop("DJANGO_SECRET_KEY")
    result = _manage("check", env=env)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_seed_demo_refuses_to_run_in_production():
    env = {**os.environ, **PRODUCTION, "DATABASE_URL": "sqlite:////nonexistent/never-used.sqlite3"}
    result = _manage("seed_demo", env=env)
    assert result.returncode != 0 and "DJANGO_DEBUG" in result.stderr
