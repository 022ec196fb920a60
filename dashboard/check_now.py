""" "Check now" on the instance page: one endpoint checked off the request thread.

A check takes seconds (up to TARGET_DEADLINE), far too long for a request. The press
starts it on a small bounded thread pool and returns at once; the page then polls
`progress()` until the new observation has arrived and posture has re-evaluated it (the
checker announces `check_finished`, posture listens).

Presses are deduplicated per endpoint through the cache: `cache.add` is atomic, so while
one check of an endpoint runs, further presses (double clicks, a colleague) join it
instead of starting another. With the default per-process cache this holds per process;
a shared cache (Redis, Memcached, database) makes it hold across processes.
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
    timeout = _patience().total_seconds()
    if not cache.add(key, {"state": RUNNING, "since": iso_z(now)}, timeout=timeout):
        current = cache.get(key) or {}
        if current.get("state") == RUNNING:
            return CheckRequest(False, parse_iso(current.get("since")) or now)
        cache.set(key, {"state": RUNNING, "since": iso_z(now)}, timeout=timeout)
    try:
        _executor().submit(_run, instance.pk)
    except RuntimeError:  # the pool is shutting down with the process
        cache.delete(key)
        raise
    return CheckRequest(True, now)


class NotCheckable(Exception):
    """The endpoint has no address, is gone, or its account is disabled."""


def _run(instance_id: int) -> None:
    key = _key(instance_id)
    close_old_connections()
    try:
        _check_one(instance_id)
    except NotCheckable as exc:
        cache.set(key, {"state": FAILED, "error": str(exc)}, timeout=300)
    except Exception as exc:
        log.exception("check now of endpoint %s failed", instance_id)
        # The type only: messages of lower layers may name hosts or paths, never shown raw.
        cache.set(key, {"state": FAILED, "error": type(exc).__name__}, timeout=300)
    else:
        cache.delete(key)
    finally:
        connection.close()


def _check_one(instance_id: int) -> None:
    """The one place that runs a check: the checker's batch service, for one endpoint. It
    stores the Observation and announces check_finished; posture re-evaluates."""
    instances = list(checkable_instances().filter(pk=instance_id))
    if not instances:
        raise NotCheckable("not checkable: no endpoint address, gone, or account disabled")
    run_checks(instances, workers=1, trigger="dashboard")


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
    state = instance.check_state if hasattr(instance, "check_state") else None
    checked = state.last_checked if state else None
    arrived = checked is not None and checked >= since
    if arrived:
        posture = getattr(instance, "posture", None)
        evaluated = posture is not None and posture.evaluated_at >= checked
        if evaluated or current.get("state") != RUNNING:
            return Progress("done", since)
    if current.get("state") == FAILED:
        return Progress(FAILED, since, current.get("error", ""))
    if current.get("state") == RUNNING or now - since < _patience():
        return Progress(RUNNING, since)
    return Progress("lost", since)
