"""Headless Chromium at 1,440 and 390 px wide: every page fits without sideways scrolling,
the instance page leads with its fix plan, the overview and /findings/ list the worklist in
fix-first order, and the evidence export carries the audit columns. Screenshots of each page
at each width land under artifacts/screenshots."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse

from dashboard.evidence import EVIDENCE_COLUMNS
from dashboard.worklist import fix_first, in_fix_first_order
from inventory.models import ACTIVE, DBInstance
from posture.finding_report import open_findings
from tests.dashboard.browser import (  # noqa: F401 - fixtures
    chromium,
    log_in,
    screenshot,
    watch_csp,
)
from tests.dashboard.conftest import PASSWORD, build_world
from tests.posture.builders import NOW

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.long(seconds=65),
]

WIDTHS = {"desktop": 1440, "phone": 390}


@pytest.fixture
def fleet(live_server, transactional_db):
    """The dashboard's world at NOW, and what the pages should show, read before the browser
    opens (Django refuses the ORM while Playwright's loop runs)."""
    get_user_model().objects.create_user("dba", password=PASSWORD, is_staff=True)
    with time_machine.travel(NOW, tick=True):
        build_world()
        active = DBInstance.objects.filter(ACTIVE)
        ids = dict(active.values_list("identifier", "pk"))
        expected = {
            "fix_first": [row["identifier"] for row in fix_first(open_findings(active))],
            "worklist": [
                f"{f.instance.identifier} {f.finding_id}"
                for f in in_fix_first_order(open_findings(active))
            ],
        }
        yield live_server.url, ids, expected


def _pages(ids: dict[str, int]) -> dict[str, str]:
    return {
        "overview": reverse("dashboard:home"),
        "instances": reverse("dashboard:instances"),
        "instance": reverse("dashboard:instance", args=[ids["legacy-db"]]),
        "instance-f": reverse("dashboard:instance", args=[ids["rotation-db"]]),
        "certificates": reverse("dashboard:certificates"),
        "worklist": reverse("dashboard:findings"),
        "by-type": reverse("dashboard:findings") + "?view=types",
        "finding": reverse("dashboard:finding", args=["transport.not_enforced"]),
        "runs": reverse("dashboard:runs"),
        "evidence": reverse("dashboard:evidence"),
        "digests": reverse("notifications:subscriptions"),
    }


def _overflow(page) -> tuple[int, int]:
    return page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_without_sideways_scrolling(fleet, chromium, screenshot, width):  # noqa: F811
    site, ids, _ = fleet
    context = chromium.new_context(viewport={"width": WIDTHS[width], "height": 900})
    page = context.new_page()
    violations = watch_csp(page)
    try:
        log_in(page, site)
        too_wide = {}
        for name, path in _pages(ids).items():
            page.goto(site + path)
            scroll_width, inner_width = _overflow(page)
            if scroll_width > inner_width:
                too_wide[name] = (scroll_width, inner_width)
            screenshot(page, f"{width}-{name}")
        assert too_wide == {}
        assert violations == []
    finally:
        context.close()


def test_phone_navigation_collapses_and_cards_put_the_grade_first(fleet, chromium):  # noqa: F811
    site = fleet[0]
    context = chromium.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    try:
        log_in(page, site)
        nav = page.locator("header nav")
        assert not nav.is_visible()
        page.click("label.nav-toggle-label")
        assert nav.is_visible() and page.locator("header nav a:has-text('Instances')").is_visible()
        page.goto(site + reverse("dashboard:instances"))
        first_card = page.locator("#instance-table tbody tr").first
        grade = first_card.locator("td.col-grade").bounding_box()
        name = first_card.locator("td.col-identifier").bounding_box()
        assert grade["y"] < name["y"]  # the grade first, then the endpoint
    finally:
        context.close()


def test_desktop_instance_table_fits_with_a_sticky_endpoint_column(fleet, chromium):  # noqa: F811
    site = fleet[0]
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        log_in(page, site)
        page.goto(site + reverse("dashboard:instances"))
        table = page.locator("#instance-table table").bounding_box()
        assert table["x"] + table["width"] <= 1440
        headers = page.locator("#instance-table thead th").all_inner_texts()
        assert "Address" not in headers  # hidden until chosen
        cell = page.locator("#instance-table td.col-identifier").first
        assert cell.evaluate("e => getComputedStyle(e).position") == "sticky"
        assert cell.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_fix_plan_and_the_worklist_order(fleet, chromium, screenshot, width):  # noqa: F811
    site, ids, expected = fleet
    context = chromium.new_context(viewport={"width": WIDTHS[width], "height": 900})
    page = context.new_page()
    try:
        log_in(page, site)
        shown = page.locator("#fix-first .endpoint").all_inner_texts()
        assert shown == expected["fix_first"]
        page.goto(site + reverse("dashboard:findings") + "?per_page=250")
        rows = page.locator("#worklist-table tbody tr")
        listed = [
            f"{row.locator('td.col-identifier a').inner_text()} "
            f"{row.locator('td.col-id code').inner_text()}"
            for row in rows.all()
        ]
        assert listed == expected["worklist"]

        page.goto(site + reverse("dashboard:instance", args=[ids["rotation-db"]]))
        assert (
            "F — capped by ca.expired: expired 2024-08-22"
            in page.locator("#grade-cap").inner_text()
        )
        script = page.locator("#fix-plan-script")
        assert script.is_visible()
        # The plan sits above the internals: it is on the first screen.
        assert script.bounding_box()["y"] < page.locator("#summary").bounding_box()["y"]
        assert page.locator("button[data-copy-target=fix-plan-script]").is_visible()
        impact = page.locator("#fix-plan-impact").inner_text()
        # rotation-db's plan changes the CA only: it neither enforces TLS nor drops TLS 1.0/1.1
        # (since issue 16's evidence fills "clients that would fail", it says so).
        assert "rds-ca-rsa2048-g1" in impact
        assert "none: the plan neither enforces TLS nor refuses TLS 1.0/1.1" in impact
        screenshot(page, f"{width}-fix-plan")
    finally:
        context.close()


def test_the_evidence_export_has_the_audit_columns(fleet, chromium):  # noqa: F811
    site, _, _ = fleet
    context = chromium.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    try:
        log_in(page, site)
        page.goto(site + reverse("dashboard:evidence"))
        with page.expect_download() as download:
            page.click("a:has-text('CSV')")
        text = Path(download.value.path()).read_text(encoding="utf-8")
        header = next(csv.reader(io.StringIO(text)))
        assert header == [
            *(c.key for c in EVIDENCE_COLUMNS),
            "generated_at",
            "generated_by",
            "filters",
        ]
        rows = list(csv.DictReader(io.StringIO(text)))
        assert {r["status"] for r in rows} <= {"PASS", "FAIL", "UNKNOWN"}
        assert {r["generated_by"] for r in rows} == {"dba"}
    finally:
        context.close()
