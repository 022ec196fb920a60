"""Runs a lost worker or process left `running` are closed as failed — by the task that is
delivered again (same task id) or, failing that, by the janitor after a while."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from checker.models import CheckRun
from checker.services import abandon_check_runs
from inventory.models import CloudAccount, SyncRun
from inventory.services import abandon_sync_runs, record_sync_failure
from tlsposture.jobs import close_abandoned_runs

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return CloudAccount.objects.create(name="prod", provider="aws", regions=["us-east-1"])


def _run(account, *, hours_ago: float, task_id: str = "", status: str = "running") -> SyncRun:
    started = timezone.now() - timedelta(hours=hours_ago)
    return SyncRun.objects.create(
        account=account, started_at=started, task_id=task_id, status=status
    )


def test_the_redelivered_task_closes_only_its_own_earlier_run(account):
    lost = _run(account, hours_ago=0, task_id="task-1")
    other = _run(account, hours_ago=0, task_id="task-2")

    assert abandon_sync_runs(task_id="task-1", reason="abandoned: worker lost") == 1

    lost.refresh_from_db()
    other.refresh_from_db()
    assert (lost.status, lost.error) == ("failed", "abandoned: worker lost")
    assert lost.finished_at is not None
    assert other.status == "running"


def test_the_janitor_closes_runs_older_than_the_limit_and_leaves_finished_ones(account, settings):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "RUN_ABANDONED_AFTER": 3600}
    stale = _run(account, hours_ago=2)
    fresh = _run(account, hours_ago=0.5)
    finished = _run(account, hours_ago=5, status="ok")
    two_hours_ago = timezone.now() - timedelta(hours=2)
    stale_check = CheckRun.objects.create(started_at=two_hours_ago, network_zone="default")
    done_check = CheckRun.objects.create(started_at=two_hours_ago, status="done")

    assert close_abandoned_runs() == "1 abandoned sync run(s) and 1 check run(s) closed"

    assert SyncRun.objects.get(pk=stale.pk).status == "failed"
    assert SyncRun.objects.get(pk=stale.pk).error.startswith("abandoned: still running after")
    assert SyncRun.objects.get(pk=fresh.pk).status == "running"
    assert SyncRun.objects.get(pk=finished.pk).status == "ok"
    stale_check.refresh_from_db()
    assert stale_check.status == "failed" and stale_check.finished_at is not None
    assert CheckRun.objects.get(pk=done_check.pk).status == "done"


def test_a_redelivered_check_batch_closes_its_own_earlier_run():
    lost = CheckRun.objects.create(started_at=timezone.now(), task_id="batch-1")
    other = CheckRun.objects.create(started_at=timezone.now(), task_id="batch-2")
    assert abandon_check_runs(task_id="batch-1", reason="abandoned: worker lost") == 1
    assert CheckRun.objects.get(pk=lost.pk).error == "abandoned: worker lost"
    assert CheckRun.objects.get(pk=other.pk).status == "running"


def test_closing_every_running_run_needs_a_task_or_an_age(account):
    _run(account, hours_ago=0)
    with pytest.raises(ValueError, match="name the task or a start time"):
        abandon_sync_runs(reason="oops")
    with pytest.raises(ValueError, match="name the task or a start time"):
        abandon_check_runs(reason="oops")
    assert SyncRun.objects.get().status == "running"


def test_a_sync_that_could_not_start_is_recorded_as_failed(account):
    run = record_sync_failure(
        account, "regions could not be discovered: AccessDenied", trigger="beat", task_id="t"
    )
    run.refresh_from_db()
    assert (run.status, run.error, run.trigger, run.task_id) == (
        "failed",
        "regions could not be discovered: AccessDenied",
        "beat",
        "t",
    )
    assert run.finished_at is not None and not run.regions.exists()
