"""Every page costs the same number of queries for 10 endpoints as for 10,000."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fleet.synthetic import seed_fleet
from inventory.models import DBInstance

pytestmark = [pytest.mark.django_db, pytest.mark.long(seconds=40)]

# Page → the most queries it may make (session and user included).
BUDGET = {
    "overview": 18,  # + "fix first" (one query), + readiness counts (one query)
    # + the user's saved views (one query; not in an HTMX table swap)
    "instances": 9,
    "instances filtered and sorted": 9,
    "instances page 3": 9,
    # + the fix plan: the endpoint's facts (5 since issue 16: its client readouts and
    # sightings are facts too) and who shares its group (1);
    # + clients seen in the window and the latest client readout for the page's table (2)
    "instance": 16,
    "check status": 3,
    "certificates": 16,  # + the unknown-CA count, the overview's own query
    "findings": 7,
    "findings by type": 7,
    "finding": 7,
    "runs": 7,
}


def _urls(instance_id: int) -> dict[str, str]:
    instances = reverse("dashboard:instances")
    return {
        "overview": reverse("dashboard:home"),
        "instances": instances,
        "instances filtered and sorted": instances
        + "?provider=aws&grade=C&enforcement=not-enforced&tag=env%3Dprod"
        "&finding=transport.not_enforced&lowest_tls=TLSv1.2&sort=-server_cert_not_after",
        "instances page 3": instances + "?page=3&per_page=25&sort=grade",
        "instance": reverse("dashboard:instance", args=[instance_id]),
        "check status": reverse("dashboard:check-status", args=[instance_id]),
        "certificates": reverse("dashboard:certificates"),
        "findings": reverse("dashboard:findings") + "?account=prod-aws",
        "findings by type": reverse("dashboard:findings") + "?view=types&account=prod-aws",
        "finding": reverse("dashboard:finding", args=["transport.not_enforced"]),
        "runs": reverse("dashboard:runs"),
    }


def _counts(client, urls: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, name
        listing = response.context.get("listing")
        assert listing is None or listing.rows, f"{name}: an empty page would skip its queries"
        counts[name] = len(queries)
    return counts


def test_page_queries_do_not_grow_from_10_to_10000_endpoints(client, admin_user):
    client.force_login(admin_user)
    seed_fleet(10)
    # An endpoint with every part of the instance page: evidence, findings, history.
    instance = DBInstance.objects.filter(check_state__status="ok", findings__isnull=False).first()
    urls = _urls(instance.pk)
    small = _counts(client, urls)

    seed_fleet(9990, start=10)
    assert DBInstance.objects.count() == 10_000
    large = _counts(client, urls)

    assert large == small
    assert {name: count <= BUDGET[name] for name, count in large.items()} == dict.fromkeys(
        BUDGET, True
    ), large
    listing = client.get(urls["instances page 3"]).context["listing"]
    assert listing.page.number == 3 and len(listing.rows) == 25
