"""Scope filters and the query budget of gathering a digest."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checker.models import ClientSighting
from inventory.models import PendingAction
from notifications.queries import gather_digest_rows, scoped_instances
from posture.models import Finding
from tests.notifications.conftest import DAY, NOW, make_instance, subscribe

pytestmark = pytest.mark.django_db


def in_scope(subscription) -> set[str]:
    return set(scoped_instances(subscription).values_list("identifier", flat=True))


def test_scope_narrows_by_provider_account_region_and_all_tags(fleet, owner):
    everything = {
        "orders-db",
        "billing-db",
        "reports-db",
        "unknown-db",
        "far-db",
        "rm-hz-payments",
    }
    assert in_scope(subscribe(owner)) == everything  # gone legacy-db is never in scope
    assert in_scope(subscribe(owner, providers=["aliyun"])) == {"rm-hz-payments"}
    assert in_scope(subscribe(owner, accounts=[fleet["aws"]])) == everything - {"rm-hz-payments"}
    assert in_scope(subscribe(owner, regions=["eu-west-1", "cn-hangzhou"])) == {
        "reports-db",
        "rm-hz-payments",
    }
    assert in_scope(subscribe(owner, tags={"team": "payments"})) == {
        "orders-db",
        "billing-db",
        "rm-hz-payments",
    }
    # A tag key with colons is one key, not a JSON path; every tag must match.
    both = {"team": "payments", "aws:cloudformation:stack-name": "orders"}
    assert in_scope(subscribe(owner, tags=both)) == {"orders-db"}
    assert in_scope(subscribe(owner, providers=["aws"], regions=["cn-hangzhou"])) == set()


def test_rows_come_only_from_endpoints_in_scope(fleet, owner):
    rows = gather_digest_rows(subscribe(owner, regions=["us-east-1"]), now=NOW, since=NOW - DAY)
    assert {r.endpoint.identifier for r in rows.server_certificates} == {
        "orders-db",
        "billing-db",
    }  # far-db is beyond 90 days, unknown-db has no date, legacy-db is gone
    (ca,) = rows.certificate_authorities
    assert (ca.identifier, ca.used_by) == ("rds-ca-2019", ("orders-db",))
    assert {(r.endpoint.identifier, r.action) for r in rows.pending_actions} == {
        ("orders-db", "CA certificate rotation")
    }
    assert {r.finding_id for r in rows.findings} == {"transport.not_enforced", "cert.expiring"}
    assert {(r.endpoint.identifier, r.grade) for r in rows.grade_changes} == {("billing-db", "C")}


def _count_queries(subscription) -> int:
    with CaptureQueriesContext(connection) as queries:
        gather_digest_rows(subscription, now=NOW, since=NOW - DAY)
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_fleet(fleet, owner):
    subscription = subscribe(owner, tags={"team": "payments"}, accounts=[fleet["aws"]])
    before = _count_queries(subscription)
    for n in range(12):
        instance = make_instance(
            fleet["aws"],
            f"extra-{n}",
            server_cert_not_after=NOW + n * DAY,
            tags={"team": "payments"},
        )
        PendingAction.objects.create(
            instance=instance,
            action=PendingAction.Action.CA_ROTATION,
            current_apply_date=NOW + DAY,
            first_seen=NOW,
            last_seen=NOW,
        )
        Finding.objects.create(
            instance=instance,
            finding_id="transport.not_enforced",
            severity="high",
            first_seen=NOW - DAY / 2,
            last_seen=NOW,
        )
        ClientSighting.objects.create(
            instance=instance,
            user="app",
            host=f"10.0.0.{n}",
            connections=1,
            checks=1,
            first_seen=NOW - DAY / 2,
            last_seen=NOW,
        )
    # 7 (the new clients among them), and 2 for the owner's team rule (their grants, the
    # account names they match).
    assert _count_queries(subscription) == before == 9
