"""What each page shows: counts that link to filtered lists, charts with text, expiries,
rotations, the stale-data banner, the instance's evidence, catalogue and runs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from checker.models import CheckRun
from inventory.models import DBInstance
from posture.services import evaluate_all
from tests.dashboard.conftest import add_sync_runs
from tests.posture.builders import NOW

pytestmark = pytest.mark.django_db


def _html(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _link_text(html: str, href: str) -> str:
    match = re.search(rf'<a href="{re.escape(href)}">([^<]*)</a>', html)
    assert match, href
    return match.group(1)


def test_overview_grade_counts_link_to_the_filtered_list(viewer_client, world):
    html = _html(viewer_client, reverse("dashboard:home"))
    assert _link_text(html, "/instances/?grade=C") == "3"
    assert _link_text(html, "/instances/?grade=A%2B") == "1"
    assert _link_text(html, "/instances/?grade=%3F") == "1"
    assert 'id="count-instances">6<' in html


def test_overview_charts_are_svg_with_words_and_numbers(viewer_client, world):
    html = _html(viewer_client, reverse("dashboard:home"))
    chart = re.search(r'<svg class="chart" id="grade-chart".*?</svg>', html, re.S).group(0)
    assert "<title>3 endpoints graded C — weak</title>" in chart
    assert '<a href="/instances/?grade=F">' in chart
    assert '<text class="label"' in chart and ">A+</text>" in chart
    findings = re.search(r'<svg class="chart" id="finding-chart".*?</svg>', html, re.S).group(0)
    assert '<a href="/instances/?finding=transport.not_enforced">' in findings
    assert "transport.not_enforced (high)" in findings
    assert "<script" not in html.split("</head>")[1]  # no chart library


def test_overview_expiry_windows_and_pending_rotations(viewer_client, world):
    html = _html(viewer_client, reverse("dashboard:home"))
    assert _link_text(html, "/instances/?cert_expires=7") == "1"
    assert _link_text(html, "/instances/?cert_expires=90") == "2"
    assert _link_text(html, "/instances/?ca_expires=expired") == "1"
    assert _link_text(html, "/instances/?pending=yes") == "1 pending"
    rotation = DBInstance.objects.get(identifier="rotation-db")
    assert f'<a href="/instances/{rotation.pk}/">rotation-db</a>' in html
    assert '<time datetime="2026-12-05T08:00:00Z">2026-12-05</time>' in html


def test_an_endpoint_that_names_no_ca_is_not_counted_as_ca_unknown(viewer_client, world):
    # rm-orders (ApsaraDB) and eu-db name no CA: not applicable, not unknown.
    html = _html(viewer_client, reverse("dashboard:home"))
    assert _link_text(html, "/instances/?ca_expires=unknown") == "0"
    assert _link_text(html, "/instances/?cert_expires=unknown") == "1"  # eu-db
    listed = _html(viewer_client, "/instances/?ca_expires=unknown")
    assert "rm-orders" not in listed and "eu-db" not in listed
    DBInstance.objects.filter(identifier="orders-db").update(
        ca_identifier="rds-ca-unlisted", ca=None, ca_lookup_error="not listed"
    )
    evaluate_all()
    html = _html(viewer_client, reverse("dashboard:home"))
    assert _link_text(html, "/instances/?ca_expires=unknown") == "1"


def test_stale_data_banner_names_failures_and_old_data(viewer_client, world):
    add_sync_runs(world)
    CheckRun.objects.create(
        started_at=NOW - timedelta(hours=2), status="failed", error="OperationalError: locked"
    )
    html = _html(viewer_client, reverse("dashboard:home"))
    banner = re.search(r'<section class="banner stale" role="alert".*?</section>', html, re.S)
    text = banner.group(0)
    assert "prod-aws · eu-west-1" in text
    assert "AccessDenied: not authorized to rds:Describe" in text
    assert "cn-aliyun</strong>: the latest sync" in text
    assert "InvalidAccessKeyId.NotFound" in text
    assert "OperationalError: locked" in text
    assert "stale after 26 hours" in text
    # prod-aws us-east-1 synced an hour ago, but three of its endpoints were never checked
    assert re.search(r"us-east-1</strong>:\s*<a [^>]*check=never\">3 endpoints never checked", text)
    freshness = re.search(r'id="freshness-heading".*?</section>', html, re.S).group(0)
    assert "warning: orders-db: CertificateDetails unreadable" in freshness


def test_no_banner_when_everything_is_fresh(viewer_client, world, settings):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "STALE_AFTER_HOURS": 24 * 365}
    DBInstance.objects.exclude(identifier="orders-db").delete()
    from inventory.models import CloudAccount, SyncRegion, SyncRun

    CloudAccount.objects.filter(name="cn-aliyun").delete()
    run = SyncRun.objects.create(
        account=world["prod"], started_at=NOW, finished_at=NOW, status="ok"
    )
    SyncRegion.objects.create(
        run=run, region="us-east-1", status="ok", started_at=NOW, finished_at=NOW
    )
    html = _html(viewer_client, reverse("dashboard:home"))
    assert 'class="banner stale"' not in html
    assert '<span class="state-ok">current</span>' in html


def test_instance_page_shows_evidence_findings_parameters_and_history(viewer_client, world):
    orders = DBInstance.objects.get(identifier="orders-db")
    html = _html(viewer_client, reverse("dashboard:instance", args=[orders.pk]))
    assert "A+ — exemplary" in html
    assert "<code>require_secure_transport</code>" in html  # parameters table
    assert "parameter group" in html and "in-sync" in html
    assert (
        '<th scope="row">TLSv1.3</th><td><span class="verdict verdict-accepted tone-good">accepted'
        in html
    )
    assert (
        '<th scope="row">SSLv3</th><td><span class="verdict verdict-rejected tone-good">rejected'
        in html
    )
    assert "<code>TLS_AES_256_GCM_SHA384</code>" in html  # negotiated suite
    assert "Chain verifies against the bundle" in html
    assert "leaf: CN=orders-db.abc.us-east-1.rds.amazonaws.com" in html
    assert "OpenSSL 3.0.13" in html  # a session variable
    assert "None: every remote account requires TLS." in html
    assert "first evaluation" in html  # grade history


def test_instance_page_findings_carry_evidence_remediation_and_unknowns(viewer_client, world):
    legacy = DBInstance.objects.get(identifier="legacy-db")
    html = _html(viewer_client, reverse("dashboard:instance", args=[legacy.pk]))
    finding = re.search(
        r'<article class="finding finding-high" id="finding-transport.not_enforced">.*?</article>',
        html,
        re.S,
    ).group(0)
    assert '<span class="severity severity-high">high</span>' in finding
    assert '<pre class="evidence">' in finding and "require_secure_transport" in finding
    assert re.search(r'<pre class="remediation">aws rds modify-db-parameter-group', finding)
    assert "<code>tls_versions_accepted</code>: never checked" in html  # unknown, with why
    assert "Never checked: nothing from the wire yet." in html
    assert "C — weak" in html


def test_instance_page_shows_server_certificate_and_ca_separately(viewer_client, world):
    rotation = DBInstance.objects.get(identifier="rotation-db")
    html = _html(viewer_client, reverse("dashboard:instance", args=[rotation.pk]))
    section = re.search(r'id="certificates-heading".*?</section>', html, re.S).group(0)
    assert "Server certificate (cloud API)" in section
    assert '<time datetime="2027-05-24T22:59:00Z">2027-05-24</time>' in section
    assert "<code>rds-ca-2019</code>, valid till" in section
    assert '<time datetime="2024-08-22T17:08:00Z">2024-08-22</time>' in section
    assert "CA certificate rotation" in section


def test_certificates_page_orders_by_expiry_with_timeline_and_cas(viewer_client, world):
    response = viewer_client.get(reverse("dashboard:certificates"))
    html = response.content.decode()
    names = [row.data["identifier"] for row in response.context["listing"].rows]
    assert names[:3] == ["expiring-db", "legacy-db", "rotation-db"] and names[-1] == "eu-db"
    timeline = re.search(r'<svg class="chart" id="expiry-timeline".*?</svg>', html, re.S).group(0)
    assert "<title>Nov 2026: 1 server certificates expire</title>" in timeline
    assert "<title>Dec 2026: 1 pending rotations fall due</title>" in timeline
    assert "<code>rds-ca-2019</code>" in html
    assert '?ca=rds-ca-2019">1 endpoint</a>' in html  # one row per CA identifier
    overview = _html(viewer_client, reverse("dashboard:home"))
    unknown = _link_text(overview, "/instances/?ca_expires=unknown")
    assert re.search(rf'ca_expires=unknown">{unknown} endpoints?</a>', html)  # counts agree


def test_findings_by_type_tab_lists_the_catalogue_with_counts_that_link(viewer_client, world):
    html = _html(viewer_client, reverse("dashboard:findings") + "?view=types")
    assert _link_text(html, "/instances/?finding=transport.not_enforced") == "2"
    assert _link_text(html, "/instances/?finding=proxy.tls_not_required") == "0"
    filtered = _html(viewer_client, reverse("dashboard:findings") + "?view=types&provider=aliyun")
    assert (
        _link_text(filtered, "/instances/?provider=aliyun&amp;finding=transport.not_enforced")
        == "1"
    )
    assert "C — weak" in html  # the grade cap, as letter and word


def test_finding_page_lists_the_endpoints_with_evidence(viewer_client, world):
    response = viewer_client.get(reverse("dashboard:finding", args=["transport.not_enforced"]))
    rows = response.context["listing"].rows
    assert sorted(r.data["identifier"] for r in rows) == ["legacy-db", "rm-orders"]
    html = response.content.decode()
    assert '<pre class="evidence">' in html and "<summary>remediation</summary>" in html


def test_runs_page_shows_each_regions_outcome_and_errors(viewer_client, world):
    add_sync_runs(world)
    CheckRun.objects.create(started_at=NOW, status="done", targets=3, ok=2, failed=1)
    html = _html(viewer_client, reverse("dashboard:runs"))
    assert 'eu-west-1: <span class="run-failed">failed</span>' in html
    assert "AccessDenied: not authorized to rds:Describe" in html
    assert "InvalidAccessKeyId.NotFound" in html
    assert '<a href="/instances/?check=failed">1</a>' in html


def test_banner_counts_checks_that_could_not_run_not_failed_tls_verification(
    viewer_client, world, settings
):
    """A failed TLS verification is posture (a finding), not a check that could not run."""
    from checker.models import TargetState

    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "STALE_AFTER_HOURS": 24 * 365}
    DBInstance.objects.exclude(identifier__in=["orders-db", "expiring-db"]).delete()
    from inventory.models import CloudAccount, SyncRegion, SyncRun

    CloudAccount.objects.filter(name="cn-aliyun").delete()
    run = SyncRun.objects.create(
        account=world["prod"], started_at=NOW, finished_at=NOW, status="ok"
    )
    SyncRegion.objects.create(
        run=run, region="us-east-1", status="ok", started_at=NOW, finished_at=NOW
    )
    orders = DBInstance.objects.get(identifier="orders-db")
    expiring = DBInstance.objects.get(identifier="expiring-db")
    TargetState.objects.filter(instance=orders).update(status="tls-failed")
    TargetState.objects.update_or_create(
        instance=expiring, defaults={"status": "ok", "last_checked": NOW}
    )
    html = _html(viewer_client, reverse("dashboard:home"))
    assert 'class="banner stale"' not in html  # tls-failed alone raises no banner
    TargetState.objects.filter(instance=orders).update(status="unreachable")
    html = _html(viewer_client, reverse("dashboard:home"))
    banner = re.search(r'<section class="banner stale" role="alert".*?</section>', html, re.S)
    assert "1 endpoint could not be checked" in banner.group(0)
    assert "check=could-not-run" in banner.group(0)
    listed = _html(viewer_client, "/instances/?check=could-not-run")
    assert "orders-db" in listed and "expiring-db" not in listed
