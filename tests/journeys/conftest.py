"""The journeys in a real browser: Playwright driving Debian's Chromium, headless, against a live server.

`make test` runs them where /usr/bin/chromium exists and skips them, saying so, where not; `.ci/run`
installs Chromium first. With PostgreSQL and REDIS_URL (as in CI) background work goes through a real
Celery worker on Redis. Screenshots of each journey's key pages land in test-artifacts/screenshots/.
"""

import datetime
import os
import shutil
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from tests.worker import celery_worker, real_worker_available

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make are still
# plain synchronous calls, so Django's guard against async contexts does not apply here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "Shenxian-Demo-2026"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(
        reason=f"Chromium not found at {CHROMIUM}: browser journeys skipped (apt-get install chromium)"
    )
    for item in items:
        if "journeys" in str(item.fspath):
            item.add_marker(skip)


def _utf8_locale(preferred="zh_CN.UTF-8"):
    """`preferred` where it is installed, else C.UTF-8: with LANG naming a locale the machine lacks, Chromium
    falls back to ASCII file names and saves a download of 2026年10月结算.xlsx as "download"."""
    import locale

    saved = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, preferred)
        return preferred
    except locale.Error:
        return "C.UTF-8"
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)


@pytest.fixture(scope="session")
def browser(django_db_setup):
    from django.db import connections
    from playwright.sync_api import sync_playwright

    serialized = {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, "--lang=zh-CN"],
            env={**os.environ, "LANGUAGE": "zh_CN:zh", "LANG": _utf8_locale()},
        )
        # Playwright's sync API leaves this thread in another contextvars context, where Django opens new
        # connection objects: hand them the reference data serialized at set-up (towns, rates, scoring sheet),
        # which the serialized rollback of each journey restores.
        for alias, contents in serialized.items():
            connections[alias]._test_serialized_contents = contents
        yield chromium
        chromium.close()


@pytest.fixture
def daytime():
    """Mid-morning of today (Beijing time) for this process, the clock running on: a journey that logs visits
    over the past hours must not straddle midnight when the suite happens to run at 00:10."""
    morning = datetime.datetime.combine(
        timezone.localdate(), datetime.time(10, 30), tzinfo=timezone.get_current_timezone()
    )
    with time_machine.travel(morning, tick=True):
        yield morning


@pytest.fixture
def demo(transactional_db):
    """The demo county (small), with one login per role."""
    call_command("seed_demo", recipients=48, stdout=open(os.devnull, "w"))  # noqa: SIM115


@pytest.fixture
def background(transactional_db):
    """Background work through a real Celery worker on Redis where there is one (CI), else in-process."""
    if real_worker_available():
        with celery_worker("journey") as queue:
            yield queue
    else:
        yield None


def _context(browser, **options):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True, **options)
    context.set_default_timeout(30_000)
    return context


def _page(context, base):
    """A page of the context that collects what the Content-Security-Policy refused, in any of the context's
    pages (Chromium says so in the console): page.csp_violations, asserted empty when the journey ends. A
    journey that expects one removes it from the list itself, saying why."""
    page = context.new_page()
    page.base = base
    page.csp_violations = []

    def on_console(message):
        if "Content Security Policy" in message.text:
            page.csp_violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    context.on("console", on_console)
    return page


def _assert_no_csp_violations(page):
    assert page.csp_violations == [], "the Content-Security-Policy refused something:\n" + "\n".join(
        page.csp_violations
    )


@pytest.fixture
def desk(browser, live_server):
    """A bureau or town office PC."""
    context = _context(browser, viewport={"width": 1280, "height": 900})
    page = _page(context, live_server.url)
    yield page
    context.close()
    _assert_no_csp_violations(page)


@pytest.fixture
def phone(browser, live_server):
    """A cheap phone in a village (360×740), with the position the test grants."""
    context = _context(
        browser,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        permissions=["geolocation"],
        geolocation={"latitude": 36.2340, "longitude": 115.6710},
    )
    page = _page(context, live_server.url)
    yield page
    context.close()
    _assert_no_csp_violations(page)


def sign_in(page, username, password=PASSWORD):
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/portal/**")


def nav_to(page, group, link):
    """Follow a link in a group of the top navigation as a keyboard user would: Enter on the group, Enter on the
    link."""
    nav = page.get_by_role("navigation", name="主导航")
    nav.locator("summary", has_text=group).focus()
    page.keyboard.press("Enter")
    target = nav.get_by_role("link", name=link, exact=True)
    target.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
