"""The fleet worklist: fix first by severity, grade, days to expiry and how many endpoints
one change fixes; the overview leads with it; environments come from a tag named in
settings."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from dashboard.worklist import fix_first, in_fix_first_order
from inventory.models import ACTIVE, DBInstance
from posture.finding_report import open_findings

pytestmark = pytest.mark.django_db


def _order():
    findings = in_fix_first_order(open_findings(DBInstance.objects.filter(ACTIVE)))
    return [(f.instance.identifier, f.finding_id, f.severity) for f in findings]


def test_worst_severity_first_then_grade_then_expiry(world):
    order = _order()
    severities = [severity for _, _, severity in order]
    ranks = ["critical", "high", "medium", "low", "info"]
    assert severities == sorted(severities, key=ranks.index)  # worst severity first
    assert order[0][:2] == ("rotation-db", "ca.expired")  # critical, on an F


def test_one_change_to_a_shared_group_counts_every_endpoint_it_fixes(world):
    # orders-tls carries both legacy-db and expiring-db: with both not enforcing TLS, one
    # change to the group fixes two endpoints, and that breaks the tie in their favour.
    from inventory.models import TLSParameter
    from posture.services import evaluate_all

    TLSParameter.objects.filter(
        instance__identifier="expiring-db", name="require_secure_transport"
    ).update(raw_value="0", normalised_value=False)
    evaluate_all()
    rows = {
        (f.instance.identifier, f.finding_id): f.one_change_fixes
        for f in in_fix_first_order(open_findings(DBInstance.objects.filter(ACTIVE)))
    }
    assert rows[("legacy-db", "transport.not_enforced")] == 2
    assert rows[("expiring-db", "transport.not_enforced")] == 2
    # A certificate is renewed endpoint by endpoint.
    assert rows[("expiring-db", "cert.expiring")] == 1


def test_overview_leads_with_fix_first(viewer_client, world):
    html = viewer_client.get(reverse("dashboard:home")).content.decode()
    assert html.index('id="fix-first"') < html.index('id="grades-heading"')
    section = re.search(r'<section id="fix-first".*?</section>', html, re.S).group(0)
    endpoints = re.findall(r'class="endpoint">([^<]+)</a>', section)
    assert endpoints == [
        row["identifier"] for row in fix_first(open_findings(DBInstance.objects.filter(ACTIVE)))
    ]
    assert endpoints[0] == "rotation-db" and len(endpoints) == len(set(endpoints))


def test_findings_page_opens_on_the_worklist_with_a_by_type_tab(viewer_client, world):
    response = viewer_client.get(reverse("dashboard:findings"))
    html = response.content.decode()
    assert '<strong aria-current="page">Worklist: endpoint × finding</strong>' in html
    assert 'href="/findings/?view=types">By type</a>' in html
    rows = [(r.data["identifier"], r.data["id"]) for r in response.context["listing"].rows]
    assert rows == [(name, fid) for name, fid, _ in _order()]


def test_environment_comes_from_the_tag_named_in_settings(viewer_client, world, settings):
    response = viewer_client.get(reverse("dashboard:findings") + "?environment=staging")
    assert {r.data["identifier"] for r in response.context["listing"].rows} == {"legacy-db"}
    assert {r.data["environment"] for r in response.context["listing"].rows} == {"staging"}
    listed = viewer_client.get(reverse("dashboard:instances") + "?environment=prod")
    names = {r.data["identifier"] for r in listed.context["listing"].rows}
    assert names == {"orders-db", "expiring-db"}
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "ENVIRONMENT_TAG": "team"}
    response = viewer_client.get(reverse("dashboard:instances") + "?environment=orders")
    assert {r.data["identifier"] for r in response.context["listing"].rows} == {"orders-db"}


def test_grade_sort_starts_at_the_worst(viewer_client, world):
    response = viewer_client.get(reverse("dashboard:instances") + "?sort=grade")
    grades = [r.data["grade"] for r in response.context["listing"].rows]
    assert grades[0] == "F"


def test_instance_table_hides_the_address_until_chosen_and_counts_by_severity(viewer_client, world):
    listing = viewer_client.get(reverse("dashboard:instances")).context["listing"]
    keys = [c.key for c in listing.columns]
    assert "endpoint" not in keys and keys[0] == "identifier"
    chosen = viewer_client.get(reverse("dashboard:instances") + "?cols=endpoint&cols=grade")
    assert [c.key for c in chosen.context["listing"].columns] == ["identifier", "endpoint", "grade"]
    html = viewer_client.get(reverse("dashboard:instances") + "?q=rotation-db").content.decode()
    assert re.search(r"\d+ open \(\d+ critical\)</a>", html)
    overview = viewer_client.get(reverse("dashboard:home")).content.decode()
    assert "≤ 30 days (incl. ≤ 7)" in overview
