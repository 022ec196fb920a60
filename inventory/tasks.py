"""Celery tasks for inventory sync: one account and region per task, on the queue of the
account's network zone. Thin: the work is inventory.services.sync_account, as in-process.

A redelivered task (its worker died) syncs the region again; the run the dead worker
left `running` is closed first. Each region is written in one transaction, so there is
never half a region to clean up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from common.queues import ZONE_TASK_OPTIONS, require_broker, zone_queue
from inventory.facts import SourceError
from inventory.models import CloudAccount
from inventory.services import abandon_sync_runs, record_sync_failure, sync_account
from inventory.sources import source_for

log = logging.getLogger(__name__)

LOST_WORKER = "abandoned: the worker running it was lost; the task was delivered again"
OUT_OF_TIME = "abandoned: the task ran out of time (CELERY_TASK_SOFT_TIME_LIMIT)"


@dataclass(frozen=True)
class QueuedSync:
    account: str
    region: str  # empty: a worker of the zone discovers the regions, then fans out
    queue: str


def enqueue_sync(
    accounts: Iterable[CloudAccount],
    regions: list[str] | None = None,
    *,
    trigger: str = "queued",
    expires: float | None = None,
) -> list[QueuedSync]:
    """Queue one task per account and region on the account's zone queue.

    `expires` (seconds) lets a scheduled round that no worker took in time be dropped
    instead of piling up behind the next one.
    """
    require_broker()
    queued = []
    for account in accounts:
        queue = zone_queue(account.network_zone)
        wanted = list(dict.fromkeys(regions or account.regions or ()))
        if not wanted:
            discover_regions.apply_async((account.pk, trigger), queue=queue, expires=expires)
            queued.append(QueuedSync(account.name, "", queue))
            continue
        for region in wanted:
            sync_region.apply_async((account.pk, region, trigger), queue=queue, expires=expires)
            queued.append(QueuedSync(account.name, region, queue))
    return queued


@shared_task(name="inventory.dispatch_sync")
def dispatch_sync(every: float | None = None) -> int:
    """Celery beat's entry point: every enabled account, per region, onto its zone."""
    accounts = CloudAccount.objects.filter(enabled=True)
    return len(enqueue_sync(accounts, trigger="beat", expires=every))


@shared_task(name="inventory.sync_region", bind=True, **ZONE_TASK_OPTIONS)
def sync_region(self, account_id: int, region: str, trigger: str = "queued") -> str:
    account = _enabled_account(account_id)
    if account is None:
        return "skipped: the account was deleted or disabled"
    abandon_sync_runs(task_id=self.request.id, reason=LOST_WORKER)
    try:
        run = sync_account(account, [region], trigger=trigger, task_id=self.request.id)
    except SoftTimeLimitExceeded:
        abandon_sync_runs(task_id=self.request.id, reason=OUT_OF_TIME)
        raise
    return run.status


@shared_task(name="inventory.discover_regions", bind=True, **ZONE_TASK_OPTIONS)
def discover_regions(self, account_id: int, trigger: str = "queued") -> int:
    """Ask the cloud for the account's regions from inside its zone, then fan out there."""
    account = _enabled_account(account_id)
    if account is None:
        return 0
    try:
        regions = source_for(account).regions()
    except SourceError as exc:
        record_sync_failure(account, str(exc), trigger=trigger, task_id=self.request.id)
        return 0
    except Exception as exc:  # a misconfigured account, as sync_account records it
        log.exception("regions of account %s could not be discovered", account.name)
        error = f"{type(exc).__name__}: {exc}"
        record_sync_failure(account, error, trigger=trigger, task_id=self.request.id)
        return 0
    queue = zone_queue(account.network_zone)
    for region in dict.fromkeys(regions):
        sync_region.apply_async((account.pk, region, trigger), queue=queue)
    return len(regions)


def _enabled_account(account_id: int) -> CloudAccount | None:
    return CloudAccount.objects.filter(pk=account_id, enabled=True).first()
