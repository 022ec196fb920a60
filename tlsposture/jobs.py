"""The scheduled jobs as run_scheduler runs them in its own process (no broker).

Each is named after its row in tlsposture/schedule.py and calls the same service functions
the Celery tasks call; `every` is the job's interval. Each returns a one-line summary.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

import notifications.services
from checker.services import abandon_check_runs, run_checks
from checker.targets import due_instances
from inventory.models import CloudAccount
from inventory.services import abandon_sync_runs, sync_accounts

ABANDONED = "abandoned: still running after TLSPOSTURE_RUN_ABANDONED_AFTER; its process was lost"


def sync_inventory(*, every: float | None = None) -> str:
    runs = sync_accounts(CloudAccount.objects.filter(enabled=True), trigger="scheduler")
    statuses = [run.status for run in runs]
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in sorted(set(statuses)))
    return f"{len(runs)} account(s) synced" + (f" ({counts})" if counts else "")


def check_endpoints(*, every: float | None = None) -> str:
    instances = list(due_instances(every or 0))
    if not instances:
        return "no endpoint due"
    run = run_checks(instances, trigger="scheduler")
    return f"{run.targets} endpoint(s) checked: {run.ok} ok, {run.failed} failed"


def send_due_digests(*, every: float | None = None) -> str:
    return f"{len(notifications.services.send_due_digests())} digest subscription(s) acted on"


def close_abandoned_runs(*, every: float | None = None) -> str:
    cutoff = timezone.now() - timedelta(seconds=settings.TLSPOSTURE["RUN_ABANDONED_AFTER"])
    syncs = abandon_sync_runs(started_before=cutoff, reason=ABANDONED)
    checks = abandon_check_runs(started_before=cutoff, reason=ABANDONED)
    return f"{syncs} abandoned sync run(s) and {checks} check run(s) closed"
