""" "Check now" on the instance page: one endpoint checked off the request thread.

A check takes seconds (up to TARGET_DEADLINE), far too long for a request. The press
hands it on and returns at once: to a small thread pool of this process, or — when a Celery
broker is configured — to the check-now queue of the account's network zone, because a
private endpoint is reachable only by that zone's workers, not necessarily by the web
server; the zone's workers take that queue ahead of a running round's batches
(common/queues.py). The page then polls `progress()` until the new observation has arrived
and posture has re-evaluated it (the checker announces `check_finished`, posture listens).

Presses are deduplicated per endpoint through the cache: `cache.add` is atomic, so while
one check of an endpoint runs, further presses (double clicks, a colleague) join it
instead of starting another. With the default per-process cache this holds per process;
a shared cache (CACHE_URL=redis://…) makes it hold across processes.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connection
from django.utils import timezone

from checker.services import run_checks
from checker.targets import checkable_instances
from checker.tasks import enqueue_checks
from common.timeutil import iso_z, parse_iso
from inventory.models import DBInstance

log = logging.getLogger(__name__)

# Checks at once from one web process; more presses wait in the pool's queue.
WORKERS = 2
RUNNING, FAILED = "running", "failed"

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="check-now")
        return _pool


def _key(instance_id: int) -> str:
    return f"tlsposture:check-now:{instance_id}"


def _patience() -> timedelta:
    """How long a check may take before the page stops waiting for it."""
    return timedelta(seconds=float(settings.TLSPOSTURE["TARGET_DEADLINE"]) + 30)


@dataclass(frozen=True)
class CheckRequest:
    started: bool  # False: a check of this endpoint was already running; this press joined it
    since: datetime  # when the check (this one or the one joined) was asked for


def request_check(instance: DBInstance) -> CheckRequest:
    """Start a check of this endpoint unless one is already running."""
    now = timezone.now()
    key = _key(instance.pk)
    running = {"state": RUNNING, "since": iso_z(now)}
    if not cache.add(key, running, timeout=_patience().total_seconds()):
        current = cache.get(key) or {}
        since = parse_iso(current.get("since"))
        # A queued check's worker cannot clear the mark; its result arriving does.
        if current.get("state") == RUNNING and since and not _arrived(instance, since):
            return CheckRequest(False, since)
        cache.set(key, running, timeout=_patience().total_seconds())
    try:
        _dispatch(instance.pk)
    except NotCheckable as exc:
        _failed(instance.pk, str(exc))
    except Exception as exc:
        log.exception("check now of endpoint %s could not be started", instance.pk)
        _failed(instance.pk, type(exc).__name__)
    return CheckRequest(True, now)


class NotCheckable(Exception):
    """The endpoint has no address, is gone, or its account is disabled."""


def _checkable(instance_id: int) -> list[DBInstance]:
    instances = list(checkable_instances().filter(pk=instance_id))
    if not instances:
        raise NotCheckable("not checkable: no endpoint address, gone, or account disabled")
    return instances


def _dispatch(instance_id: int) -> None:
    """The one place that decides where the check runs."""
    if settings.CELERY_BROKER_URL:
        enqueue_checks(_checkable(instance_id), trigger="dashboard", urgent=True)
    else:
        _executor().submit(_run, instance_id)


def _failed(instance_id: int, error: str) -> None:
    # Only our own words or an exception's type: messages of lower layers may name hosts
    # or paths, and are never shown raw.
    cache.set(_key(instance_id), {"state": FAILED, "error": error}, timeout=300)


def _run(instance_id: int) -> None:
    """In the pool: the checker's batch service for one endpoint. It stores the
    Observation and announces check_finished; posture re-evaluates."""
    close_old_connections()
    try:
        run_checks(_checkable(instance_id), workers=1, trigger="dashboard")
    except NotCheckable as exc:
        _failed(instance_id, str(exc))
    except Exception as exc:
        log.exception("check now of endpoint %s failed", instance_id)
        _failed(instance_id, type(exc).__name__)
    else:
        cache.delete(_key(instance_id))
    finally:
        connection.close()


def _arrived(instance: DBInstance, since: datetime) -> bool:
    state = getattr(instance, "check_state", None)
    return bool(state and state.last_checked and state.last_checked >= since)


def _evaluated(instance: DBInstance) -> bool:
    posture = getattr(instance, "posture", None)
    return posture is not None and posture.evaluated_at >= instance.check_state.last_checked


@dataclass(frozen=True)
class Progress:
    state: str  # running | done | failed | lost
    since: datetime
    error: str = ""

    @property
    def polling(self) -> bool:
        return self.state == RUNNING


def in_flight(instance: DBInstance) -> Progress | None:
    """The check of this endpoint running now, if any (so a reloaded page keeps waiting)."""
    current = cache.get(_key(instance.pk)) or {}
    since = parse_iso(current.get("since"))
    if current.get("state") != RUNNING or since is None:
        return None
    return progress(instance, since)


def progress(instance: DBInstance, since: datetime, now: datetime | None = None) -> Progress:
    """Where the check asked for at `since` stands. Done once an observation at or after
    `since` is stored and posture has evaluated it (or nothing is running any more)."""
    now = now or timezone.now()
    current = cache.get(_key(instance.pk)) or {}
    if _arrived(instance, since):
        if _evaluated(instance):
            return Progress("done", since)
        if current.get("state") != RUNNING:
            # The mark went after `instance` was read: a check clears it only once posture
            # has evaluated its result, so read that evaluation rather than show a stale one.
            instance.refresh_from_db()
            return Progress("done", since)
    if current.get("state") == FAILED:
        return Progress(FAILED, since, current.get("error", ""))
    if current.get("state") == RUNNING or now - since < _patience():
        return Progress(RUNNING, since)
    return Progress("lost", since)
