"""Headless Chromium (Debian's, driven by Playwright) for the browser tests, and where
their screenshots go: $TLSPOSTURE_ARTIFACTS_DIR/screenshots (default <repo>/artifacts)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.dashboard.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
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


def chromium_path() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def browser_env() -> dict[str, str] | None:
    """Chromium's environment: the run's own, so it sees the clock the server sees. Under
    `make test-future` that is libfaketime's moved wall clock, inherited with LD_PRELOAD;
    there the run keeps the monotonic clock real and libfaketime's "monotonic fix" off
    (scripts/run-at-date.sh). Chromium's zygote loses its renderers with a real monotonic
    clock (libfaketime 0.9.10 rewrites absolute monotonic sleeps as though that clock were
    faked), so Chromium gets the faked one, and with it the fix, without which its timed
    waits on that clock would wait for a deadline a year away."""
    moved_clock_only = ("FAKETIME_DONT_FAKE_MONOTONIC", "FAKETIME_FORCE_MONOTONIC_FIX")
    if not any(name in os.environ for name in moved_clock_only):
        return None
    return {k: v for k, v in os.environ.items() if k not in moved_clock_only}


def screenshots_dir() -> Path:
    base = Path(os.environ.get("TLSPOSTURE_ARTIFACTS_DIR") or ROOT / "artifacts")
    target = base / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def chromium():
    """A browser per test. Playwright's sync API keeps an event loop running in this thread
    while it is open: Django refuses ORM calls then, and would give them a connection of
    their own that nobody closes. So tests write their data in fixtures that run before
    this one, and the browser is closed before the test database is flushed."""
    path = chromium_path()
    if path is None:
        pytest.skip("chromium is not installed (Debian package `chromium`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, args=CHROMIUM_ARGS, env=browser_env()
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def screenshot(request):
    """screenshot(page, "step") → <artifacts>/screenshots/<test>-<step>.png"""
    directory = screenshots_dir()

    def take(page, step: str) -> Path:
        path = directory / f"{request.node.name}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def watch_csp(page) -> list[str]:
    """Content-Security-Policy violations Chromium reports on `page`, across navigations."""
    violations: list[str] = []

    def on_console(message):
        if "Content Security Policy" in message.text:
            violations.append(f"{message.text} ({message.location.get('url', '')})")

    page.on("console", on_console)
    return violations


def log_in(page, site: str, next_path: str = "/", username: str = "dba") -> None:
    """Open `next_path`, log in on the page it sends to, and land on `next_path` again."""
    page.goto(site + next_path)
    assert "/login/" in page.url  # every page asks for a login first
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(site + next_path) + "$"))
