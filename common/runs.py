"""What sync runs and check runs have in common: closing the ones a dead worker left open."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def close_abandoned_runs(
    runs, *, reason: str, task_id: str = "", started_before: datetime | None = None
) -> int:
    """Mark `running` rows of `runs` (a queryset) failed with `reason`; returns how many.

    Either the task that owned them or a start time must be named: "every running run" is
    never abandoned, since most of them are simply still running.
    """
    if not task_id and started_before is None:
        raise ValueError("name the task or a start time: every running run is not abandoned")
    runs = runs.filter(status="running")
    if task_id:
        runs = runs.filter(task_id=task_id)
    if started_before is not None:
        runs = runs.filter(started_at__lt=started_before)
    return runs.update(status="failed", error=reason, finished_at=timezone.now())
