"""What runs how often: the one schedule behind Celery beat and `manage.py run_scheduler`.

job                   every  variable                  beat sends (broker set)
sync-inventory        6h     TLSPOSTURE_SYNC_EVERY     inventory.dispatch_sync
check-endpoints       12h    TLSPOSTURE_CHECK_EVERY    checker.dispatch_checks
send-due-digests      15m    TLSPOSTURE_DIGEST_EVERY   notifications.send_due_digests
close-abandoned-runs  15m    TLSPOSTURE_JANITOR_EVERY  tlsposture.close_abandoned_runs

Beat's tasks run on the default queue and fan sync and check work out onto one queue per
network zone. Without a broker, run_scheduler calls tlsposture.jobs.<job> (e.g.
`sync_inventory`) on the same intervals: the same service functions, in its own process.
Durations are written `90s`, `15m`, `6h` or `1d`.

Digests are frequent on purpose: each subscription is sent once per period however often
the job runs, so the interval only bounds how late after local midnight a digest goes out.
Only the environment is read here: settings.py builds beat's table from this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlsposture.env import env_duration

# name, variable, default, Celery task, whether the task fans out onto zone queues
_TABLE = (
    ("sync-inventory", "TLSPOSTURE_SYNC_EVERY", "6h", "inventory.dispatch_sync", True),
    ("check-endpoints", "TLSPOSTURE_CHECK_EVERY", "12h", "checker.dispatch_checks", True),
    ("send-due-digests", "TLSPOSTURE_DIGEST_EVERY", "15m", "notifications.send_due_digests", False),
    ("close-abandoned-runs", "TLSPOSTURE_JANITOR_EVERY", "15m", "tlsposture.close_abandoned_runs",
     False),
)  # fmt: skip


@dataclass(frozen=True)
class Job:
    name: str
    every: float  # seconds
    task: str  # the Celery task beat sends
    fans_out: bool  # the task takes `every=`: its zone tasks expire after one interval

    @property
    def function(self) -> str:
        """Dotted path of what run_scheduler calls (with `every=`)."""
        return "tlsposture.jobs." + self.name.replace("-", "_")


def jobs() -> list[Job]:
    """The schedule, with intervals read from the environment now."""
    return [
        Job(name, env_duration(variable, default), task, fans_out)
        for name, variable, default, task, fans_out in _TABLE
    ]


def beat_schedule() -> dict:
    """The same table in Celery beat's format (CELERY_BEAT_SCHEDULE)."""
    schedule = {}
    for job in jobs():
        entry = {
            "task": job.task,
            "schedule": job.every,
            # A round nobody took before the next one is due is dropped, not piled up.
            "options": {"expires": job.every},
        }
        if job.fans_out:
            entry["kwargs"] = {"every": job.every}
        schedule[job.name] = entry
    return schedule
