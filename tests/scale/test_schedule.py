"""One schedule table: Celery beat's entries and run_scheduler's jobs come from it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from tlsposture.celery import app
from tlsposture.env import parse_duration
from tlsposture.schedule import beat_schedule, jobs


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("15m", 900), ("6h", 21600), ("1d", 86400), (" 0.5h ", 1800)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "six hours", "0", "-5m"])
def test_what_is_not_a_duration(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_the_default_schedule():
    assert [(job.name, job.every, job.task) for job in jobs()] == [
        ("sync-inventory", 6 * 3600, "inventory.dispatch_sync"),
        ("check-endpoints", 12 * 3600, "checker.dispatch_checks"),
        ("send-due-digests", 15 * 60, "notifications.send_due_digests"),
        ("close-abandoned-runs", 15 * 60, "tlsposture.close_abandoned_runs"),
    ]


def test_beat_runs_the_same_table_and_every_task_exists():
    app.loader.import_default_modules()
    assert beat_schedule() == settings.CELERY_BEAT_SCHEDULE
    for job in jobs():
        entry = settings.CELERY_BEAT_SCHEDULE[job.name]
        assert entry["task"] == job.task and entry["task"] in app.tasks
        assert entry["schedule"] == job.every
        assert entry["options"] == {"expires": job.every}
        assert entry.get("kwargs", {}) == ({"every": job.every} if job.fans_out else {})
        assert callable(import_string(job.function)), job.function


def test_intervals_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TLSPOSTURE_SYNC_EVERY", "30m")
    monkeypatch.setenv("TLSPOSTURE_DIGEST_EVERY", "45s")
    every = {job.name: job.every for job in jobs()}
    assert every["sync-inventory"] == 1800 and every["send-due-digests"] == 45
    assert beat_schedule()["sync-inventory"]["kwargs"] == {"every": 1800}


def test_a_wrong_interval_names_its_variable(monkeypatch):
    monkeypatch.setenv("TLSPOSTURE_CHECK_EVERY", "twice a day")
    with pytest.raises(ImproperlyConfigured, match="TLSPOSTURE_CHECK_EVERY"):
        jobs()
