"""The evaluation service: finding history, InstancePosture, grade history, idempotence,
and evaluation triggered by the sync and check announcements."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command

from checker.evidence import ACCEPTED, Verdict
from checker.models import CheckRun
from checker.signals import check_finished
from inventory.facts import RegionInventory
from inventory.models import CloudAccount
from inventory.services import sync_account
from posture.models import Finding, GradeChange, InstancePosture
from posture.services import evaluate_account, evaluate_instances
from tests.posture.builders import NOW, clean_evidence
from tests.posture.rows import instance, instance_fact, observe, rst, sync, tls_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def account():
    return CloudAccount.objects.create(name="prod-aws", provider="aws", regions=["us-east-1"])


def _open(account, name):
    return {
        f.finding_id: f
        for f in Finding.objects.filter(instance__identifier=name, resolved_at__isnull=True)
    }


def test_first_evaluation_opens_findings_and_starts_grade_history(clock, account):
    sync(account, instance_fact("orders-db", parameters=(rst("0"), tls_version("TLSv1.2,TLSv1.3"))))
    outcome = evaluate_account(account)
    # Two findings: not enforced, and evidence.incomplete (never checked).
    assert (outcome.evaluated, outcome.opened, outcome.grade_changes) == (1, 2, 1)
    finding = _open(account, "orders-db")["transport.not_enforced"]
    assert (finding.first_seen, finding.last_seen, finding.severity) == (NOW, NOW, "high")
    assert finding.evidence["transport_enforced"]["raw"] == "0"
    assert finding.remediation.startswith("aws rds modify-db-parameter-group")
    posture = InstancePosture.objects.get(instance=instance(account, "orders-db"))
    assert (posture.grade, posture.transport_enforced) == ("C", False)
    assert posture.transport_enforced_source == "api:parameter-group"
    assert posture.finding_ids == ["evidence.incomplete", "transport.not_enforced"]
    assert posture.open_findings == 2
    assert posture.worst_severity == "high"
    assert posture.tls_versions_configured == ["TLSv1.2", "TLSv1.3"]
    assert posture.server_cert_source == "api:certificate-details"
    assert posture.ca_valid_till.year == 2061
    change = GradeChange.objects.get()
    assert (change.previous, change.grade, change.changed_at) == ("", "C", NOW)


def test_re_evaluation_is_idempotent_and_moves_last_seen(clock, account):
    sync(account, instance_fact("orders-db", parameters=(rst("0"),)))
    evaluate_account(account)
    clock.shift(timedelta(hours=2))
    outcome = evaluate_account(account)
    assert (outcome.opened, outcome.resolved, outcome.grade_changes) == (0, 0, 0)
    finding = Finding.objects.get(finding_id="transport.not_enforced")
    assert finding.first_seen == NOW and finding.last_seen == NOW + timedelta(hours=2)
    assert Finding.objects.count() == 2  # and evidence.incomplete, unchanged too
    assert GradeChange.objects.count() == 1


def test_fix_resolves_and_recurrence_opens_a_new_row(clock, account):
    sync(account, instance_fact("orders-db", parameters=(rst("0"), tls_version("TLSv1.2,TLSv1.3"))))
    evaluate_account(account)
    clock.shift(timedelta(days=1))
    sync(account, instance_fact("orders-db"))
    assert evaluate_account(account).resolved == 1
    resolved = Finding.objects.get(finding_id="transport.not_enforced")
    assert resolved.resolved_at == NOW + timedelta(days=1)
    assert resolved.last_seen == NOW  # the last time it was seen, not the time it went
    clock.shift(timedelta(days=1))
    sync(account, instance_fact("orders-db", parameters=(rst("0"), tls_version("TLSv1.2,TLSv1.3"))))
    evaluate_account(account)
    rows = Finding.objects.filter(finding_id="transport.not_enforced").order_by("first_seen")
    assert [(r.first_seen, r.resolved_at) for r in rows] == [
        (NOW, NOW + timedelta(days=1)),
        (NOW + timedelta(days=2), None),
    ]
    history = GradeChange.objects.order_by("changed_at").values_list("previous", "grade")
    # Fixed but never checked: B (evidence.incomplete), not A.
    assert list(history) == [("", "C"), ("C", "B"), ("B", "C")]


def test_unknown_keeps_an_open_finding_open_and_untouched(clock, account):
    sync(account, instance_fact("orders-db"))
    db = instance(account, "orders-db")
    evidence = clean_evidence()
    evidence.probe.cipher_classes["broken"] = Verdict(ACCEPTED, suite="DES-CBC3-SHA")
    observe(db, evidence, NOW)
    evaluate_instances([db.pk])
    assert InstancePosture.objects.get(instance=db).grade == "C"
    # The next check cannot reach the server: nothing on the wire is known.
    clock.shift(timedelta(hours=6))
    unreachable = clean_evidence()
    unreachable.probe.reached = False
    unreachable.probe.error = "connect timeout"
    observe(db, unreachable, NOW + timedelta(hours=6), status="unreachable")
    outcome = evaluate_instances([db.pk])
    assert outcome.resolved == 0
    broken = Finding.objects.get(finding_id="cipher.broken")
    assert broken.resolved_at is None and broken.last_seen == NOW
    posture = InstancePosture.objects.get(instance=db)
    assert posture.grade == "C"
    assert posture.undetermined["cipher.broken"].startswith("the latest check did not reach")
    assert posture.unknowns["tls_versions_accepted"].endswith("connect timeout")


def test_severity_follows_the_days_left_on_the_same_row(clock, account):
    expiry = NOW + timedelta(days=40)
    sync(account, instance_fact("orders-db", server_cert_not_after=expiry))
    evaluate_account(account)
    assert Finding.objects.get(finding_id="cert.expiring").severity == "low"
    clock.shift(timedelta(days=15))
    evaluate_account(account)
    finding = Finding.objects.get(finding_id="cert.expiring")
    assert (finding.severity, finding.first_seen) == ("medium", NOW)
    assert finding.evidence["days_left"] == 25
    assert InstancePosture.objects.get().grade == "B"


def test_gone_instances_are_not_evaluated(clock, account):
    sync(account, instance_fact("orders-db"), instance_fact("old-db"))
    sync(account, instance_fact("orders-db"))
    outcome = evaluate_account(account)
    assert outcome.evaluated == 1
    assert not InstancePosture.objects.filter(instance__identifier="old-db").exists()


def test_sync_finished_triggers_evaluation_of_the_account(clock, account):
    class OneRegionCloud:
        def regions(self):
            return ["us-east-1"]

        def fetch_region(self, region):
            return RegionInventory(region, (instance_fact("orders-db", parameters=(rst("0"),)),))

    sync_account(account, source=OneRegionCloud())
    posture = InstancePosture.objects.get(instance__identifier="orders-db")
    assert posture.grade == "C" and posture.evaluated_at == NOW


def test_a_sync_of_one_region_evaluates_that_region_only(clock, account):
    sync(account, instance_fact("orders-db"))  # us-east-1, written without a sync run

    class OtherRegionCloud:
        def regions(self):
            return ["eu-west-1"]

        def fetch_region(self, region):
            fact = instance_fact("billing-db", resource_id="arn:aws:rds:eu-west-1:1:db:billing")
            return RegionInventory(region, (fact,))

    sync_account(account, ["eu-west-1"], source=OtherRegionCloud())
    assert list(InstancePosture.objects.values_list("instance__identifier", flat=True)) == [
        "billing-db"
    ]


def test_check_finished_triggers_evaluation_of_those_instances(clock, account):
    sync(account, instance_fact("orders-db"), instance_fact("billing-db"))
    db = instance(account, "orders-db")
    observe(db, clean_evidence(), NOW)
    run = CheckRun.objects.create(started_at=NOW, finished_at=NOW, status="done")
    check_finished.send(sender=CheckRun, run=run, instance_ids=[db.pk])
    assert InstancePosture.objects.get(instance=db).grade == "A+"
    assert not InstancePosture.objects.filter(instance__identifier="billing-db").exists()


def test_evaluate_posture_command(clock, account):
    sync(account, instance_fact("orders-db", parameters=(rst("0"),)))
    out = io.StringIO()
    call_command("evaluate_posture", "--account", "prod-aws", stdout=out)
    assert out.getvalue().strip() == (
        "evaluated 1 endpoint(s): 2 finding(s) opened, 0 resolved, 1 grade change(s)"
    )
    with pytest.raises(CommandError, match="no account named 'nope'"):
        call_command("evaluate_posture", "--account", "nope")
