"""The scheduled check job, in-process: the due endpoints only, through run_checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from checker.models import CheckRun, Observation, TargetState
from checker.targets import due_instances
from inventory.models import CloudAccount
from tests.fleet_targets import fleet_endpoint, password_variable
from tlsposture.jobs import check_endpoints

pytestmark = pytest.mark.django_db
HOUR = 3600


@pytest.fixture
def account(tls_fleet, monkeypatch):
    for scenario in ("enforced", "optional"):
        monkeypatch.setenv(password_variable(scenario), tls_fleet[scenario].checker.password)
    return CloudAccount.objects.create(
        name="prod", provider="aws", ca_bundle=str(tls_fleet.bundle_path)
    )


def _checked(instance, hours_ago: float) -> None:
    TargetState.objects.create(
        instance=instance, last_checked=timezone.now() - timedelta(hours=hours_ago), status="ok"
    )


def test_due_means_never_checked_or_not_within_nine_tenths_of_the_interval(account, tls_fleet):
    never = fleet_endpoint(account, tls_fleet, "enforced", identifier="never")
    long_ago = fleet_endpoint(account, tls_fleet, "enforced", identifier="long-ago")
    early = fleet_endpoint(account, tls_fleet, "enforced", identifier="early")
    recent = fleet_endpoint(account, tls_fleet, "enforced", identifier="recent")
    _checked(long_ago, hours_ago=13)
    _checked(early, hours_ago=11)  # checked a little early last round: due again now
    _checked(recent, hours_ago=2)

    assert set(due_instances(12 * HOUR)) == {never, long_ago, early}
    assert recent not in due_instances(12 * HOUR)


def test_the_job_checks_what_is_due_and_says_what_it_did(account, tls_fleet):
    due = fleet_endpoint(account, tls_fleet, "enforced")
    fresh = fleet_endpoint(account, tls_fleet, "optional")
    _checked(fresh, hours_ago=1)

    assert check_endpoints(every=12 * HOUR) == "1 endpoint(s) checked: 1 ok, 0 failed"

    run = CheckRun.objects.get()
    assert (run.trigger, run.targets, run.status) == ("scheduler", 1, "done")
    assert list(Observation.objects.values_list("instance", flat=True)) == [due.pk]
    assert check_endpoints(every=12 * HOUR) == "no endpoint due"
