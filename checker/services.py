"""Check runs: the writer of runs, observations and target states (checker profiles are
written by checker/profiles_as_code.py and checker/password_rotation.py).

A run plans every endpoint in the calling thread (profiles, bundles, credentials), hands
the pure `check_endpoint` to a bounded pool (checker/concurrency.py: as many at once as the
CPU allows while checks wait on the network, up to TLSPOSTURE_WORKERS; at most
PER_HOST_LIMIT at a time against one dial host) and writes each result from the calling
thread as it arrives. Then it announces `check_finished`; posture listens.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from checker.client_evidence import record_clients
from checker.concurrency import BoundedRun
from checker.credentials import CredentialResolver
from checker.endpoint import (
    STATUS_OK,
    STATUS_UNREACHABLE,
    CheckLimits,
    Endpoint,
    EndpointResult,
    check_endpoint,
)
from checker.evidence import EVIDENCE_SCHEMA_VERSION, Evidence
from checker.models import CheckRun, Observation, TargetState
from checker.probe import ProbeLimits
from checker.session import SessionLimits
from checker.signals import check_finished
from checker.targets import plan_endpoints
from common.runs import close_abandoned_runs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    failed: int
    elapsed: float

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0


def limits_from_settings() -> CheckLimits:
    options = settings.TLSPOSTURE
    read_timeout = float(options["READ_TIMEOUT"])
    return CheckLimits(
        probe=ProbeLimits(
            connect_timeout=float(options["CONNECT_TIMEOUT"]),
            read_timeout=read_timeout,
            max_handshakes=int(options["MAX_HANDSHAKES"]),
        ),
        session=SessionLimits(
            connect_timeout=float(options["CONNECT_TIMEOUT"]),
            read_timeout=read_timeout,
            write_timeout=read_timeout,
        ),
        target_deadline=float(options["TARGET_DEADLINE"]),
    )


def run_checks(
    instances,
    *,
    workers: int | None = None,
    trigger: str = "command",
    progress: Callable[[Progress], None] | None = None,
    limits: CheckLimits | None = None,
    resolver: CredentialResolver | None = None,
    network_zone: str = "",
    task_id: str = "",
) -> CheckRun:
    instances = list(instances)
    limits = limits or limits_from_settings()
    workers = max(1, min(workers or settings.TLSPOSTURE["WORKERS"], len(instances) or 1))
    run = CheckRun.objects.create(
        started_at=timezone.now(),
        trigger=trigger,
        targets=len(instances),
        workers=workers,
        network_zone=network_zone,
        task_id=task_id,
    )
    started = time.monotonic()
    checked: list[int] = []
    try:
        endpoints = plan_endpoints(instances, resolver=resolver)
        for results in _execute(endpoints, workers, limits, run):
            with transaction.atomic():  # what finished together: one write lock, one commit
                for result in results:
                    _store(run, result)
            for result in results:
                checked.append(result.instance_id)
                if progress:
                    progress(
                        Progress(
                            done=len(checked),
                            total=len(endpoints),
                            failed=run.failed,
                            elapsed=time.monotonic() - started,
                        )
                    )
    except BaseException as exc:
        run.status, run.error = CheckRun.Status.FAILED, f"{type(exc).__name__}: {exc}"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        raise
    run.status, run.finished_at = CheckRun.Status.DONE, timezone.now()
    run.save(update_fields=["status", "finished_at", "workers"])
    log.info(
        "check run %s: %s targets, %s ok, %s failed in %.1f s",
        run.pk, run.targets, run.ok, run.failed, time.monotonic() - started,
    )  # fmt: skip
    check_finished.send(sender=CheckRun, run=run, instance_ids=checked)
    return run


# Results that finished together are stored in one transaction (one write lock, one commit)
# of at most this many: the writer keeps up with hundreds of checks at once.
STORE_TOGETHER = 64


def _execute(endpoints: list[Endpoint], workers: int, limits: CheckLimits, run: CheckRun):
    """Yield lists of results in the calling thread as the pool finishes them."""
    pool = BoundedRun(
        endpoints,
        lambda endpoint: check_endpoint(endpoint, limits),
        host_of=lambda endpoint: endpoint.dial_host,
        per_host=int(settings.TLSPOSTURE["PER_HOST_LIMIT"]),
        ceiling=workers,
        on_error=_internal_error,
    )
    try:
        yield from pool.batches(STORE_TOGETHER)
    finally:
        # What the run allowed at most (the limit adapts; see checker/concurrency.py).
        run.workers = pool.peak_limit or run.workers
        log.info(
            "check run %s: at most %s checks at once (limit up to %s, %s threads), "
            "at most %s results waiting to be stored",
            run.pk, pool.peak_running, pool.peak_limit, pool.peak_threads,
            pool.peak_results_waiting,
        )  # fmt: skip


def _internal_error(endpoint: Endpoint, exc: Exception) -> EndpointResult:
    log.error("check of %s failed", endpoint.label, exc_info=exc)
    evidence = Evidence(dialed=endpoint.dialed, verified_name=endpoint.verify_name)
    return EndpointResult(
        instance_id=endpoint.instance_id,
        status=STATUS_UNREACHABLE,
        reason=f"checker error ({type(exc).__name__}); see the log",
        evidence=evidence,
        checked_at=timezone.now(),
        duration_ms=0,
    )


def _store(run: CheckRun, result: EndpointResult) -> Observation:
    evidence = result.evidence
    with transaction.atomic():
        observation = Observation.objects.create(
            run=run,
            instance_id=result.instance_id,
            checked_at=result.checked_at,
            status=result.status,
            reason=result.reason,
            dialed=evidence.dialed,
            verified_name=evidence.verified_name,
            duration_ms=result.duration_ms,
            schema_version=EVIDENCE_SCHEMA_VERSION,
            evidence=evidence.to_dict(),
        )
        state = {
            "latest": observation,
            "last_checked": result.checked_at,
            "status": result.status,
        }
        if result.status == STATUS_OK:
            state["last_ok_at"] = result.checked_at
        TargetState.objects.update_or_create(instance_id=result.instance_id, defaults=state)
        record_clients(result.instance_id, evidence, result.checked_at, observation)
        if result.status == STATUS_OK:
            run.ok += 1
        else:
            run.failed += 1
        run.save(update_fields=["ok", "failed"])
    return observation


def abandon_check_runs(
    *, reason: str, task_id: str = "", started_before: datetime | None = None
) -> int:
    """Close runs a dead worker or process left `running` as failed; returns how many.

    Their observations stay: each was written whole, with those that finished together.
    """
    return close_abandoned_runs(
        CheckRun.objects.all(), reason=reason, task_id=task_id, started_before=started_before
    )
