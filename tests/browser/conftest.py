"""Browser tests: the real portal on pytest-django's live server, driven in Debian's headless
Chromium (/usr/bin/chromium) through Playwright for Python. Nothing downloads a browser:
`playwright install` is never run. Screenshots go to tests/browser/artifacts/ (ignored by git).

They are marked `browser` and skipped, with the reason, where Chromium or Playwright is
missing; CI (.ci/run) installs Chromium and a Chinese font, so they run there."""
import os
import shutil
from pathlib import Path

import pytest

from tests.backoffice.conftest import clock, today, world  # noqa: F401  the same known data as the selector tests

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "correct horse battery staple"  # tests/factories.py UserFactory
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

# Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
# ordinary synchronous code, so Django's async-safety guard is told so.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing: apt-get install chromium fonts-wqy-microhei (CI installs them)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is missing: pip install -e '.[dev]'"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, live_server, settings):
    """A fresh browser context (no cookies) on the live server; staff pages in Chinese."""
    settings.LANGUAGE_CODE = "zh-hans"
    context = chromium.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1440, "height": 1000},
                                   accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, user):
    """Sign in through the admin's own login form (a second-factor code too, when it asks)."""
    page.context.clear_cookies()
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", PASSWORD)
    if page.locator("#id_otp_token").count():
        from django_otp.oath import TOTP
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(user=user, name="test",
                                                                                           confirmed=True)
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        page.fill("#id_otp_token", f"{totp.token():06d}")
    page.locator("#login-form [type=submit]").first.click()
    page.wait_for_url("**/admin/")
    return page


def screenshot(page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def charts_drawn(page) -> int:
    page.wait_for_function("document.querySelectorAll('canvas[data-chart-source]').length === "
                           "document.querySelectorAll('canvas[data-drawn=\"1\"]').length")
    return page.locator('canvas[data-drawn="1"]').count()


def clean_artifacts():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
