"""Where queued work goes and how a task survives a lost worker.

One queue per network zone: private endpoints (and some cloud API endpoints) are reachable
only from inside their VPC, so only a worker running there may take that zone's work.
The queue name is derived here and nowhere else.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError

DEFAULT_ZONE = "default"
ZONE_QUEUE_PREFIX = "zone."
# "Check now" of a zone goes to a queue of its own that every worker of the zone also takes
# (`check_now_queues`), so a check someone waits for starts at the next free worker slot
# instead of behind a scheduled round's batches. No zone queue starts like this.
CHECK_NOW_QUEUE_PREFIX = "now."
_ZONE_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")

# A database that restarts or a connection that drops mid-task is worth another try; a
# cloud API error is not (the sync records it, the services' own retries already ran).
RETRYABLE_ERRORS = (OperationalError, InterfaceError)

# Options of every task that does sync or check work. acks_late + reject_on_worker_lost:
# the message is acknowledged only once the work is done, so a worker killed mid-task
# gives it back to the broker and another worker of the zone redoes it.
ZONE_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": RETRYABLE_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


class BrokerNotConfigured(RuntimeError):
    pass


def zone_queue(zone: str) -> str:
    """The queue a zone's workers consume, e.g. `zone.vpc-prod` (`-Q zone.vpc-prod`)."""
    name = zone or DEFAULT_ZONE
    validate_zone_name(name)
    return ZONE_QUEUE_PREFIX + name


def check_now_queue(zone: str) -> str:
    """The queue of a zone's "check now" requests, e.g. `now.vpc-prod`."""
    name = zone or DEFAULT_ZONE
    validate_zone_name(name)
    return CHECK_NOW_QUEUE_PREFIX + name


def check_now_queues(queues) -> list[str]:
    """The check-now queues that go with the zone queues among `queues` (a worker's -Q)."""
    return [
        check_now_queue(queue.removeprefix(ZONE_QUEUE_PREFIX))
        for queue in queues
        if queue.startswith(ZONE_QUEUE_PREFIX)
    ]


def validate_zone_name(name: str) -> None:
    """Letters, digits, `.`, `-` and `_`: what names a queue on every broker and survives
    `celery worker -Q a,b` (which splits on commas)."""
    if not _ZONE_NAME.fullmatch(name or ""):
        raise ValidationError(
            f"network zone {name!r} must be letters, digits, '.', '-' or '_' (it names a queue)"
        )


def require_broker() -> None:
    """Raise unless CELERY_BROKER_URL is set: queued work would otherwise go nowhere."""
    if not settings.CELERY_BROKER_URL:
        raise BrokerNotConfigured(
            "CELERY_BROKER_URL is not set: there are no workers to queue work for "
            "(run without --queue to do the work in this process)"
        )
