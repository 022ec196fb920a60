"""Celery tasks for checks: batches of endpoints of one network zone on that zone's queue.
Thin: the work is checker.services.run_checks, as in-process.

A batch delivered again (its worker died) first closes the run the lost worker left
`running`, then checks only the endpoints that got no observation since the batch was
queued: each observation was written whole, so those are done.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from checker.services import abandon_check_runs, run_checks
from checker.targets import checkable_instances, due_instances
from common.queues import ZONE_TASK_OPTIONS, check_now_queue, require_broker, zone_queue
from inventory.models import DBInstance

LOST_WORKER = "abandoned: the worker running it was lost; the batch was delivered again"


@dataclass(frozen=True)
class QueuedBatch:
    zone: str
    queue: str
    endpoints: int


def enqueue_checks(
    instances: Iterable[DBInstance],
    *,
    trigger: str = "queued",
    expires: float | None = None,
    urgent: bool = False,
) -> list[QueuedBatch]:
    """Group endpoints by their account's zone into batches on that zone's queue; `urgent`
    (someone waits for the result) on the zone's check-now queue, ahead of any round."""
    require_broker()
    size = max(1, settings.TLSPOSTURE["CHECK_BATCH_SIZE"])
    by_zone: dict[str, list[int]] = defaultdict(list)
    for instance in instances:
        by_zone[instance.account.network_zone].append(instance.pk)
    queued_at = timezone.now().isoformat()
    batches = []
    for zone, ids in sorted(by_zone.items()):
        queue = check_now_queue(zone) if urgent else zone_queue(zone)
        for start in range(0, len(ids), size):
            batch = ids[start : start + size]
            check_batch.apply_async((batch, zone, trigger, queued_at), queue=queue, expires=expires)
            batches.append(QueuedBatch(zone, queue, len(batch)))
    return batches


@shared_task(name="checker.dispatch_checks")
def dispatch_checks(every: float) -> int:
    """Celery beat's entry point: the due endpoints, in batches, onto their zones."""
    instances = due_instances(every)
    return len(enqueue_checks(instances, trigger="beat", expires=every))


@shared_task(name="checker.check_batch", bind=True, **ZONE_TASK_OPTIONS)
def check_batch(
    self, instance_ids: list[int], zone: str, trigger: str = "queued", queued_at: str = ""
) -> str:
    abandon_check_runs(task_id=self.request.id, reason=LOST_WORKER)
    instances = checkable_instances().filter(pk__in=instance_ids)
    if queued_at:
        since = datetime.fromisoformat(queued_at)
        instances = instances.exclude(check_state__last_checked__gte=since)
    instances = list(instances)
    if not instances:
        return "nothing left to check"
    # Past the soft time limit run_checks closes its run as failed itself.
    run = run_checks(instances, trigger=trigger, network_zone=zone, task_id=self.request.id)
    return f"{run.targets} checked: {run.ok} ok, {run.failed} failed"
