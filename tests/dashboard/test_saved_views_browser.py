"""Saved views in Chromium: saved after an HTMX filter change (the hidden query must be the
one on screen, not the one the page was loaded with), applied and deleted; and the same
without JavaScript on a 390 px phone, with no sideways scrolling."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.dashboard.browser import (  # noqa: F401 - fixtures
    chromium,
    log_in,
    screenshot,
    watch_csp,
)
from tests.dashboard.conftest import PASSWORD, build_world
from tests.posture.builders import NOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server, transactional_db):
    get_user_model().objects.create_user("dba", password=PASSWORD, is_staff=True)
    with time_machine.travel(NOW, tick=True):  # as tests/dashboard/test_browser.py
        build_world()
        yield live_server.url


def _rows(page) -> list[str]:
    return sorted(page.locator("#instance-table tbody td.col-identifier a").all_inner_texts())


GRADE_C = ["expiring-db", "legacy-db", "rm-orders"]


def test_save_after_an_htmx_filter_change_apply_and_delete(site, chromium, screenshot):  # noqa: F811
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    violations = watch_csp(page)
    try:
        log_in(page, site, "/instances/")
        with page.expect_response(
            lambda r: "grade=C" in r.url and r.request.headers.get("hx-request")
        ):
            page.select_option("#id_grade", "C")
        expect(page.locator("#instance-table tbody tr")).to_have_count(3)
        page.fill("#save-view input[name=name]", "Grade C")
        page.click("#save-view button[type=submit]")
        page.wait_for_url(re.compile(r"/instances/\?grade=C$"))
        expect(page.locator(".message")).to_contain_text("View “Grade C” saved.")

        page.goto(site + "/instances/")
        assert len(_rows(page)) == 6
        page.click(".my-views a:has-text('Grade C')")
        page.wait_for_url(re.compile(r"grade=C"))
        assert _rows(page) == GRADE_C
        screenshot(page, "applied")

        page.click(".my-views button:has-text('delete')")
        expect(page.locator(".message")).to_contain_text("View “Grade C” deleted.")
        assert page.locator(".my-views a:has-text('Grade C')").count() == 0
        assert _rows(page) == GRADE_C  # back to the list as it was
        assert violations == []
    finally:
        context.close()


def test_save_without_javascript_on_a_phone(site, chromium, screenshot):  # noqa: F811
    context = chromium.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    try:
        log_in(page, site, "/instances/")
        page.select_option("#id_grade", "C")
        page.click("#filters button[type=submit]")
        page.wait_for_url(re.compile(r"grade=C"))
        page.click("#save-view button[type=submit]")  # no name: the browser refuses
        assert "/instances/views/" not in page.url
        page.fill("#save-view input[name=name]", "x" * 80)
        page.click("#save-view button[type=submit]")
        page.wait_for_url(re.compile(r"/instances/\?grade=C$"))
        link = page.locator(".my-views a", has_text="x" * 80)
        expect(link).to_have_count(1)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 390, width  # a long name wraps instead of widening the page
        screenshot(page, "phone")
        page.click(".my-views button:has-text('delete')")
        expect(page.locator(".my-views a", has_text="x" * 80)).to_have_count(0)
    finally:
        context.close()
