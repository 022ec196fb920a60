"""Headless Chromium against the live server: log in, filter, sort and page the instance
list with HTMX, open an endpoint, the same without JavaScript, and "check now" against a
real fleet server — all under the site's Content-Security-Policy, with no violation
reported (waits use Playwright's locators: its string predicates would need 'unsafe-eval')."""

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
from tests.dashboard.fleet_endpoint import fleet_endpoint
from tests.posture.builders import NOW

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.long(seconds=45),
]


@pytest.fixture
def live_site(live_server, transactional_db):
    get_user_model().objects.create_user("dba", password=PASSWORD, is_staff=True)
    return live_server.url


@pytest.fixture
def site(live_site):
    """The dashboard's world, built at NOW, is evaluated and served at NOW: the clock of this
    process (the live server's thread included) starts at NOW and ticks on while the browser
    runs. Chromium keeps the clock of the run and has nothing to decide by date: the session
    and CSRF cookies carry Max-Age, which wins over their Expires, and the check status's
    `since` comes from the server. `make test-future` holds the browser to that."""
    with time_machine.travel(NOW, tick=True):
        build_world()
        yield live_site


def _rows(page) -> list[str]:
    return page.locator("#instance-table tbody td.col-identifier a").all_inner_texts()


def test_filter_sort_page_and_open_an_endpoint_with_htmx(site, chromium, screenshot):  # noqa: F811
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    violations = watch_csp(page)
    try:
        log_in(page, site, "/instances/")
        assert len(_rows(page)) == 6
        screenshot(page, "1-instances")

        with page.expect_response(
            lambda r: "grade=C" in r.url and r.request.headers.get("hx-request")
        ):
            page.select_option("#id_grade", "C")
        expect(page.locator("#instance-table tbody tr")).to_have_count(3)
        assert sorted(_rows(page)) == ["expiring-db", "legacy-db", "rm-orders"]
        assert page.url.endswith("/instances/?grade=C")  # the URL holds the state
        assert page.locator("#id_grade").input_value() == "C"

        with page.expect_response(
            lambda r: "sort=-identifier" in r.url or "sort=identifier" in r.url
        ):
            page.click("#instance-table th a:has-text('Endpoint')")
        page.wait_for_selector("#instance-table th[aria-sort]")
        assert _rows(page) == ["expiring-db", "legacy-db", "rm-orders"]
        assert "sort=identifier" in page.url and "grade=C" in page.url
        with page.expect_response(lambda r: "sort=-identifier" in r.url):
            page.click("#instance-table th a:has-text('Endpoint')")
        page.wait_for_selector("#instance-table th[aria-sort=descending]")
        assert _rows(page) == ["rm-orders", "legacy-db", "expiring-db"]
        screenshot(page, "2-filtered-sorted")

        # The filter form keeps the sort chosen in the table when another filter changes.
        page.click(".more-filters summary")  # provider is one of the "more filters"
        with page.expect_response(lambda r: "provider=aws" in r.url):
            page.select_option("#id_provider", "aws")
        expect(page.locator("#instance-table tbody tr")).to_have_count(2)
        assert _rows(page) == ["legacy-db", "expiring-db"]
        assert "sort=-identifier" in page.url

        page.go_back()  # history works: the previous state comes back
        expect(page.locator("#instance-table tbody tr")).to_have_count(3)

        page.click("#instance-table a:has-text('legacy-db')")
        page.wait_for_selector("h1:has-text('legacy-db')")
        assert "C — weak" in page.locator("h1").inner_text()
        assert page.locator("#fix-plan-script").is_visible()  # the answer, before internals
        assert "orders-tls" in page.locator("#fix-plan-impact").inner_text()
        # The finding's own remediation and raw evidence sit behind a disclosure.
        raw = page.locator("#finding-transport\\.not_enforced pre.remediation")
        assert not raw.is_visible()
        page.click("#finding-transport\\.not_enforced details.raw summary")
        assert raw.is_visible()
        screenshot(page, "3-endpoint")
        assert violations == []  # everything above ran under the Content-Security-Policy
    finally:
        context.close()


def test_filters_and_paging_work_without_javascript(site, chromium, screenshot):  # noqa: F811
    context = chromium.new_context(
        java_script_enabled=False, viewport={"width": 1400, "height": 900}
    )
    page = context.new_page()
    try:
        log_in(page, site, "/instances/")
        page.click(".more-filters summary")
        page.select_option("#id_enforcement", "not-enforced")
        page.click("#filters button[type=submit]")
        page.wait_for_url(re.compile(r"enforcement=not-enforced"))
        assert sorted(_rows(page)) == ["legacy-db", "rm-orders"]
        page.click("#instance-table th a:has-text('Grade')")
        page.wait_for_url(re.compile(r"sort=grade"))
        assert "enforcement=not-enforced" in page.url
        screenshot(page, "no-javascript")
    finally:
        context.close()


@pytest.fixture
def fleet_instance(live_site, tls_fleet, monkeypatch):
    """Written before the browser starts: while Playwright's loop runs in this thread,
    Django would hand the test another database connection, one nobody closes. No world and
    no time travel here: the fleet's certificates are minted on the run's clock, the one
    mariadbd and OpenSSL see, so the check is made and graded on that clock too."""
    return fleet_endpoint(tls_fleet, monkeypatch)


@pytest.mark.fleet
def test_check_now_shows_the_new_result_when_it_arrives(
    live_site,
    fleet_instance,
    chromium,  # noqa: F811
    screenshot,  # noqa: F811
):
    instance = fleet_instance
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    violations = watch_csp(page)
    try:
        log_in(page, live_site, f"/instances/{instance.pk}/")
        assert "never" in page.locator("#check-status").inner_text()
        page.click("#check-now")
        page.wait_for_selector("#check-status:has-text('Checking')")
        screenshot(page, "1-checking")
        page.wait_for_selector("#check-status:has-text('New result')", timeout=60_000)
        status = page.locator("#check-status").inner_text()
        assert "checked" in status and "grade" in status
        assert page.url.endswith(f"/instances/{instance.pk}/")  # no reload happened
        headline = page.locator("#headline-grade").inner_text()
        assert headline != "? — no evidence" and headline in status  # the heading followed
        screenshot(page, "2-result")
        page.click("#check-status a:has-text('Reload the page')")
        page.wait_for_selector("h3:has-text('Protocol versions')")
        screenshot(page, "3-evidence")
        assert violations == []
    finally:
        context.close()


INJECTED = "<script>window.injected = true; document.title = 'injected';</script>"


def test_an_injected_inline_script_is_blocked(site, chromium):  # noqa: F811
    """The server's own page and headers, with an inline script slipped into the HTML (as
    a stored XSS would): the Content-Security-Policy keeps it from running."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    violations = watch_csp(page)
    try:
        log_in(page, site, "/instances/")
        assert violations == []

        def inject(route, strip_policy: bool):
            response = route.fetch()
            headers = dict(response.headers)
            if strip_policy:
                headers.pop("content-security-policy")
            body = response.text().replace("</main>", INJECTED + "</main>")
            route.fulfill(response=response, headers=headers, body=body)

        page.route(re.compile(r".*/instances/\?blocked$"), lambda r: inject(r, False))
        page.route(re.compile(r".*/instances/\?control$"), lambda r: inject(r, True))

        page.goto(site + "/instances/?blocked")
        assert "script-src 'self'" in page.evaluate(
            "fetch(location.href).then(r => r.headers.get('content-security-policy'))"
        )
        assert page.content().count("window.injected = true") == 1  # it is in the page
        assert page.evaluate("window.injected") is None  # and it did not run
        assert page.title() != "injected"
        assert any("inline script" in v for v in violations), violations

        page.goto(site + "/instances/?control")  # the same page without the policy
        assert page.evaluate("window.injected") is True
    finally:
        context.close()


@pytest.fixture
def root(site):
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)


def test_the_admin_runs_under_the_policy(site, root, chromium):  # noqa: F811
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    violations = watch_csp(page)
    try:
        log_in(page, site, "/", username="root")
        for path in ("/admin/", "/admin/checker/checkerprofile/add/", "/admin/axes/"):
            page.goto(site + path)
            page.wait_for_selector("#site-name")
        page.goto(site + "/admin/inventory/dbinstance/")
        page.click("#result_list tbody tr a")  # an endpoint's change page, with inlines
        page.wait_for_selector("#content h1")
        page.goto(site + "/notifications/subscriptions/new/")
        page.wait_for_selector("form.digest-form")
        assert violations == []
    finally:
        context.close()
