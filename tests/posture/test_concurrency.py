"""Concurrent work never loses an evaluation: a database busy past its timeout is retried,
and an endpoint whose evaluation is older than its newest evidence says so — on its page,
in the report and in the stale-data banner."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from inventory.models import CloudAccount
from posture.models import InstancePosture
from posture.services import evaluate_account
from tests.posture.builders import NOW, clean_evidence
from tests.posture.rows import instance, instance_fact, observe, sync


@pytest.fixture(autouse=True)
def at_now():
    """The world of tests/posture/rows.py is dated around NOW: evaluate it there, with the
    clock ticking (the lock waits below are real)."""
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def account():
    return CloudAccount.objects.create(name="prod-aws", provider="aws", regions=["us-east-1"])


class _WriteLock:
    """Another connection holding the database's write lock for `seconds`, then letting go."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.taken = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self):
        settings = connection.settings_dict
        if connection.vendor == "sqlite":
            other = sqlite3.connect(settings["NAME"], isolation_level=None, timeout=5)
            other.execute("BEGIN IMMEDIATE")
        else:
            import psycopg

            other = psycopg.connect(
                host=settings["HOST"],
                port=settings["PORT"] or 5432,
                user=settings["USER"],
                password=settings["PASSWORD"],
                dbname=settings["NAME"],
            )
            other.execute("LOCK TABLE posture_instanceposture IN ACCESS EXCLUSIVE MODE")
        self.taken.set()
        time.sleep(self.seconds)
        other.commit()
        other.close()

    def __enter__(self):
        self.thread.start()
        assert self.taken.wait(5)
        return self

    def __exit__(self, *exc):
        self.thread.join(10)


def _wait_briefly_for_locks():
    """This connection gives up on a lock after 50 ms instead of the configured timeout."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA busy_timeout = 50")
        else:
            cursor.execute("SET lock_timeout = '50ms'")


@pytest.mark.django_db(transaction=True)
def test_an_evaluation_that_meets_a_held_lock_is_retried_not_lost(account, caplog):
    sync(account, instance_fact("orders-db"))
    _wait_briefly_for_locks()

    with caplog.at_level(logging.WARNING), _WriteLock(seconds=0.3):
        outcome = evaluate_account(account)

    assert outcome.evaluated == 1
    assert "attempt 2 of 4" in caplog.text
    posture = InstancePosture.objects.get()
    assert posture.grade == "B"  # never checked: evidence.incomplete
    assert posture.evaluated_synced_at == instance(account, "orders-db").last_seen


@pytest.mark.django_db
def test_an_evaluation_behind_its_evidence_says_so_everywhere(account, admin_client):
    sync(account, instance_fact("orders-db"))
    evaluate_account(account)
    db = instance(account, "orders-db")

    def report_row():
        out = io.StringIO()
        call_command("posture_report", "--format", "json", stdout=out)
        (row,) = json.loads(out.getvalue())["instances"]
        return row

    assert report_row()["evaluation_behind"] is False
    page = admin_client.get(reverse("dashboard:instance", args=[db.pk])).content.decode()
    assert 'id="evaluation-behind"' not in page

    # A check is stored, and its evaluation is lost (the process died, the database refused).
    observe(db, clean_evidence(), timezone.now() + timedelta(seconds=1))

    row = report_row()
    assert row["evaluation_behind"] is True and row["grade"] == "B"
    page = admin_client.get(reverse("dashboard:instance", args=[db.pk])).content.decode()
    assert 'id="evaluation-behind"' in page and "it may be out of date" in page
    home = admin_client.get(reverse("dashboard:home")).content.decode()
    assert "1 endpoint graded before its newest evidence" in home

    evaluate_account(account)  # the next evaluation catches up
    assert report_row()["evaluation_behind"] is False
    home = admin_client.get(reverse("dashboard:home")).content.decode()
    assert "graded before" not in home
