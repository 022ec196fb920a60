"""Client readiness on the pages: the instance page names the clients and gives both
verdicts, the overview counts ready / not ready / unknown, and each count links to its list.
The world is built at the fixed NOW and served at NOW."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse

from checker.client_evidence import record_clients
from checker.evidence import ACCEPTED, ClientConnection, ClientsReadout, Verdict
from inventory.models import DBInstance
from posture.services import evaluate_all
from tests.dashboard.conftest import body
from tests.posture.builders import NOW, clean_evidence
from tests.posture.rows import observe

pytestmark = pytest.mark.django_db


def _clients_seen(instance, *connections, at):
    """A check of `instance` at `at` that logged in and named these connections."""
    evidence = clean_evidence()
    evidence.session.variables.update(require_secure_transport="OFF")
    evidence.probe.protocols["TLSv1.0"] = Verdict(ACCEPTED, suite="ECDHE-RSA-AES256-SHA")
    evidence.session.clients = ClientsReadout(
        state="ok",
        performance_schema="ON",
        connections=list(connections),
        counters={"Connections": 100, "Ssl_accepts": 90, "Uptime": 1000},
    )
    observation = observe(instance, evidence, at)
    record_clients(instance.pk, evidence, at, observation)


@pytest.fixture
def readiness_world(world):
    legacy = DBInstance.objects.get(identifier="legacy-db")
    app = ClientConnection("app", "10.0.3.7", "TCP/IP", None, None, 41)
    batch = ClientConnection("batch", "10.0.4.2", "SSL/TLS", "TLSv1", "ECDHE-RSA-AES256-SHA", 42)
    _clients_seen(legacy, app, batch, at=NOW - timedelta(hours=5))
    _clients_seen(legacy, app, at=NOW - timedelta(hours=2))
    evaluate_all()
    return legacy


def test_the_instance_page_names_the_clients_and_gives_both_verdicts(
    readiness_world, viewer_client
):
    page = body(viewer_client.get(reverse("dashboard:instance", args=[readiness_world.pk])))
    assert (
        '<dd id="enforce-tls-verdict" class="readiness-not-ready">would break: '
        "app@10.0.3.7 (last seen 2 h ago)</dd>"
    ) in page
    assert (
        '<dd id="drop-legacy-tls-verdict" class="readiness-not-ready">would break: '
        "batch@10.0.4.2 (last seen 5 h ago)</dd>"
    ) in page
    assert "<code>app@10.0.3.7</code>" in page and "<code>batch@10.0.4.2</code>" in page
    assert "no TLS</strong>" in page and "<td>TLSv1</td>" in page
    assert 'id="finding-clients.plaintext_observed"' in page
    assert 'id="finding-clients.legacy_tls_observed"' in page


def _would_fail(client, instance) -> str:
    page = body(client.get(reverse("dashboard:instance", args=[instance.pk])))
    plan = page.split('<section id="fix-plan"')[1].split("</section>")[0]
    return plan.split('<dd id="clients-that-would-fail"')[1].split("</dd>")[0]


def test_the_fix_plan_names_the_clients_it_would_cut_off(readiness_world, viewer_client):
    """legacy-db's plan enforces TLS and refuses TLS 1.0: the plaintext client and the
    TLS 1.0 client are who would fail (issue 16's evidence in issue 21's impact)."""
    page = body(viewer_client.get(reverse("dashboard:instance", args=[readiness_world.pk])))
    assert page.index('id="fix-plan"') < page.index('id="clients"')  # the plan first
    plan = (
        viewer_client.get(reverse("dashboard:instance", args=[readiness_world.pk]))
        .context["d"]
        .plan
    )
    assert {"transport.not_enforced", "protocol.legacy_tls"} <= set(plan.addresses)
    # The clients.* findings say which clients move first; the server change is made once.
    assert "# Before you start: Configure each of these clients to connect with TLS" in plan.script
    assert plan.script.count("aws rds modify-db-parameter-group") == 1
    assert plan.clients_that_would_fail == [
        "app@10.0.3.7 without TLS (last seen 2 h ago)",
        "batch@10.0.4.2 on TLSv1 (last seen 5 h ago)",
    ]
    assert _would_fail(viewer_client, readiness_world) == (
        ">app@10.0.3.7 without TLS (last seen 2 h ago), batch@10.0.4.2 on TLSv1 (last seen 5 h ago)"
    )


def test_the_fix_plan_says_none_seen_and_on_what_evidence(world, viewer_client):
    """Only TLS 1.2 clients in two checks: none would fail, and the page says how much was
    looked at."""
    legacy = DBInstance.objects.get(identifier="legacy-db")
    app = ClientConnection(
        "app", "10.0.3.7", "SSL/TLS", "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 7
    )
    _clients_seen(legacy, app, at=NOW - timedelta(days=3))
    _clients_seen(legacy, app, at=NOW - timedelta(hours=1))
    evaluate_all()
    plan = viewer_client.get(reverse("dashboard:instance", args=[legacy.pk])).context["d"].plan
    assert "transport.not_enforced" in plan.addresses
    assert plan.clients_that_would_fail == []
    assert _would_fail(viewer_client, legacy) == ">none seen in 2 checks over 3 days"


def test_the_fix_plan_says_unknown_and_why_without_client_evidence(world, viewer_client):
    legacy = DBInstance.objects.get(identifier="legacy-db")
    plan = viewer_client.get(reverse("dashboard:instance", args=[legacy.pk])).context["d"].plan
    assert plan.clients_that_would_fail is None
    assert _would_fail(viewer_client, legacy) == (
        ' class="unknown">unknown: no check logged in and read the client connections within '
        "30 days (TLSPOSTURE_CLIENT_WINDOW_DAYS)"
    )


def test_the_overview_counts_ready_not_ready_and_unknown_with_links(readiness_world, viewer_client):
    page = viewer_client.get(reverse("dashboard:home"))
    rows = page.context["readiness"]
    enforce = {state: count for state, count, _ in rows[0][1]}
    current = DBInstance.objects.filter(gone_at__isnull=True).count()
    assert enforce["not-ready"] == 1 and sum(enforce.values()) == current
    assert enforce["done"] >= 1  # orders-db enforces TLS already
    assert enforce["unknown"] == current - 1 - enforce["done"] - enforce["ready"]
    href = next(h for state, _, h in rows[0][1] if state == "not-ready")
    assert href == "/instances/?enforce_tls=not-ready"
    listed = viewer_client.get(href).context["listing"]
    assert [row.data["identifier"] for row in listed.rows] == ["legacy-db"]


def test_report_rows_carry_the_verdicts(readiness_world, staff_client):
    rows = json.loads(body(staff_client.get(reverse("dashboard:instances-export", args=["json"]))))
    row = next(r for r in rows["instances"] if r["identifier"] == "legacy-db")
    assert row["enforce_tls_readiness"] == "not-ready"
    assert row["enforce_tls_verdict"] == "would break: app@10.0.3.7 (last seen 2 h ago)"
    assert row["drop_legacy_tls_readiness"] == "not-ready"
    csv = body(staff_client.get(reverse("dashboard:instances-export", args=["csv"])))
    header = csv.splitlines()[0].split(",")
    # Issue 16's verdicts and issue 21's lowest accepted version and the export's own record.
    for column in (
        "enforce_tls_readiness",
        "drop_legacy_tls_verdict",
        "lowest_tls_accepted",
        "lowest_tls_accepted_source",
        "generated_at",
    ):
        assert column in header, column
    assert row["lowest_tls_accepted"] == "TLSv1.0"  # legacy-db's check accepted TLS 1.0


def test_the_instance_list_shows_and_sorts_by_readiness(readiness_world, viewer_client):
    response = viewer_client.get(reverse("dashboard:instances") + "?sort=enforce_tls_readiness")
    rows = response.context["listing"].rows
    assert rows[0].data["identifier"] == "legacy-db"  # who would break comes first
    page = body(response)
    assert (
        '<span class="readiness-not-ready" title="would break: app@10.0.3.7 (last seen 2 h '
        'ago)">would break</span>'
    ) in page
