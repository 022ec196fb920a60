"""`manage.py run_scheduler`: the schedule in one process, with the same service functions;
SIGTERM waits for the running job. And the commands that queue refuse without a broker."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from fleet.moto_server import reset, seed
from inventory.models import CloudAccount, SyncRun
from tests.subprocess_env import database_url_of, django_env

ROOT = Path(__file__).resolve().parents[2]
AWS_ACCOUNT = "123456789012"


def _read_until(process: subprocess.Popen, text: str, lines: list[str]) -> None:
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if text in line:
            return
    raise AssertionError(f"run_scheduler ended before {text!r}:\n" + "\n".join(lines))


def test_jobs_run_in_process_and_sigterm_lets_the_running_sync_finish(
    transactional_db, moto_url, tmp_path
):
    reset(moto_url)
    rows = [{"DBInstanceIdentifier": f"db-{n}", "Engine": "mysql"} for n in range(2)]
    seed(moto_url, "create_db_instances", account_id=AWS_ACCOUNT, region="us-east-1",
         instances=rows)  # fmt: skip
    # The listing answers after 2 s, so the stop request lands in the middle of the sync.
    seed(moto_url, "inject_fault", account_id=AWS_ACCOUNT, region="us-east-1",
         action="DescribeDBInstances", delay=2.0, times=1)  # fmt: skip
    account = CloudAccount.objects.create(
        name="embedded", provider="aws", regions=["us-east-1"], endpoint_url=moto_url
    )
    left_behind = SyncRun.objects.create(
        account=account, started_at=timezone.now() - timedelta(hours=3), trigger="scheduler"
    )

    env = django_env(database_url_of(connection), tmp_path, TLSPOSTURE_RUN_ABANDONED_AFTER="1h")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_scheduler",
         "--job", "sync-inventory", "--job", "close-abandoned-runs"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    try:
        _read_until(process, "sync-inventory: started", lines)
        _read_until(process, "close-abandoned-runs: done", lines)
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    output = [line.split(" ", 2)[2] for line in lines + rest.splitlines() if line[:2] == "20"]

    assert process.returncode == 0, "\n".join(lines) + rest
    assert output[:2] == ["sync-inventory: every 6h", "close-abandoned-runs: every 15m"]
    assert "close-abandoned-runs: done in" in "\n".join(output)
    # (The janitor's thread may still be winding down when the signal comes.)
    assert output[-3].startswith("stopping: waiting for sync-inventory")
    assert output[-3].endswith("(again to exit now)")
    assert output[-2].startswith("sync-inventory: done in")
    assert output[-2].endswith("1 account(s) synced (1 ok)")
    assert output[-1] == "stopped"
    left_behind.refresh_from_db()
    assert left_behind.status == "failed" and left_behind.error.startswith("abandoned")
    finished = SyncRun.objects.exclude(pk=left_behind.pk).get()
    assert (finished.trigger, finished.status, finished.instances_seen) == ("scheduler", "ok", 2)


def test_a_second_ctrl_c_exits_at_once_naming_the_unfinished_job(
    transactional_db, moto_url, tmp_path
):
    reset(moto_url)
    seed(moto_url, "create_db_instances", account_id=AWS_ACCOUNT, region="us-east-1",
         instances=[{"DBInstanceIdentifier": "db-0", "Engine": "mysql"}])  # fmt: skip
    # The listing answers only after 10 s: the sync is still running at both signals.
    seed(moto_url, "inject_fault", account_id=AWS_ACCOUNT, region="us-east-1",
         action="DescribeDBInstances", delay=10.0, times=1)  # fmt: skip
    CloudAccount.objects.create(
        name="embedded", provider="aws", regions=["us-east-1"], endpoint_url=moto_url
    )
    env = django_env(database_url_of(connection), tmp_path)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_scheduler", "--job", "sync-inventory"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    try:
        _read_until(process, "sync-inventory: started", lines)
        process.send_signal(signal.SIGINT)
        _read_until(process, "stopping: waiting for sync-inventory", lines)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=20)
    finally:
        process.kill()
        reset(moto_url)  # the delayed answer is not left for the next test

    assert process.returncode == 1, "\n".join(lines) + rest
    assert "stopped with sync-inventory unfinished" in rest
    assert "sync-inventory: done" not in rest


def test_run_scheduler_leaves_the_schedule_to_beat_when_a_broker_is_set(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    with pytest.raises(CommandError, match="runs in Celery beat"):
        call_command("run_scheduler")


def test_run_scheduler_names_unknown_jobs(settings):
    settings.CELERY_BROKER_URL = ""
    with pytest.raises(CommandError, match="no such job: nightly"):
        call_command("run_scheduler", "--job", "nightly")


@pytest.mark.django_db
def test_queueing_without_a_broker_says_how_to_run_in_process(settings):
    settings.CELERY_BROKER_URL = ""
    CloudAccount.objects.create(name="a", provider="aws", regions=["us-east-1"])
    with pytest.raises(CommandError, match=r"CELERY_BROKER_URL is not set.*without --queue"):
        call_command("sync_inventory", "--queue", stdout=io.StringIO())
