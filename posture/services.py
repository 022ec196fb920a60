"""The only writer of posture models: evaluate endpoints and record what changed.

Per endpoint and catalogue id there is at most one open Finding. Raised again: last_seen
moves (and evidence, severity, remediation follow the facts). Not raised and decided: it is
resolved. Undecided (unknown) this time: it stays open untouched. Raised after being
resolved: a new row, so history stays honest. Every grade change is a GradeChange row.
Re-evaluating unchanged facts changes nothing but last_seen and evaluated_at.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import OperationalError, transaction
from django.utils import timezone

from inventory.models import ACTIVE, CloudAccount, DBInstance
from posture.grades import severity_rank
from posture.models import Finding, GradeChange, InstancePosture
from posture.rules import Evaluation, evaluate
from posture.snapshot import build_facts, policy_from_settings

log = logging.getLogger(__name__)

# Endpoints per batch: bounds memory (evidence JSON) while queries stay a fixed few per batch.
BATCH_SIZE = 500

_POSTURE_FIELDS = (
    "grade",
    "evaluated_at",
    "transport_enforced",
    "transport_enforced_source",
    "tls_versions_configured",
    "tls_versions_accepted",
    "tls_versions_rejected",
    "lowest_tls_accepted",
    "server_cert_not_after",
    "server_cert_source",
    "ca_valid_till",
    "open_findings",
    "worst_severity",
    "finding_ids",
    "unknowns",
    "undetermined",
    "a_plus_blockers",
    "evaluated_observation_id",
    "evaluated_synced_at",
    "enforce_tls_readiness",
    "enforce_tls_verdict",
    "drop_legacy_tls_readiness",
    "drop_legacy_tls_verdict",
)
# A batch that fails on the database (SQLite busy past its timeout, a PostgreSQL
# serialization failure or deadlock) is tried again from scratch: it is one transaction.
BATCH_ATTEMPTS = 4
RETRY_PAUSE = 0.5  # seconds, doubled after each failed attempt


@dataclass
class EvaluationOutcome:
    evaluated: int = 0
    opened: int = 0
    resolved: int = 0
    grade_changes: int = 0


def evaluate_instances(
    instance_ids: Iterable[int], *, now: datetime | None = None
) -> EvaluationOutcome:
    """Evaluate these endpoints (gone ones are skipped) and write findings and posture."""
    now = now or timezone.now()
    policy = policy_from_settings()
    ids = list(dict.fromkeys(instance_ids))
    outcome = EvaluationOutcome()
    for start in range(0, len(ids), BATCH_SIZE):
        _evaluate_with_retries(ids[start : start + BATCH_SIZE], now, policy, outcome)
    return outcome


def _evaluate_with_retries(ids: list[int], now, policy, outcome: EvaluationOutcome) -> None:
    """One batch; a database error rolls it back whole, so it is simply done again.

    What still fails after BATCH_ATTEMPTS raises: the caller logs it, and the endpoints show
    their evaluation as behind their evidence (models.evaluation_behind) until a later
    evaluation succeeds."""
    pause = RETRY_PAUSE
    for attempt in range(1, BATCH_ATTEMPTS + 1):
        try:
            done = _evaluate_batch(ids, now, policy)
        except OperationalError as exc:
            if attempt == BATCH_ATTEMPTS:
                raise
            log.warning(
                "posture evaluation of %d endpoint(s) failed (%s); attempt %d of %d in %.1f s",
                len(ids), exc, attempt + 1, BATCH_ATTEMPTS, pause,
            )  # fmt: skip
            time.sleep(pause)
            pause *= 2
            continue
        outcome.evaluated += done.evaluated
        outcome.opened += done.opened
        outcome.resolved += done.resolved
        outcome.grade_changes += done.grade_changes
        return


def evaluate_account(
    account: CloudAccount, *, regions: list[str] | None = None, now: datetime | None = None
) -> EvaluationOutcome:
    """Every endpoint of the account, or of these regions only (what one sync wrote)."""
    instances = DBInstance.objects.filter(ACTIVE, account=account)
    if regions:
        instances = instances.filter(region__in=regions)
    return evaluate_instances(list(instances.values_list("pk", flat=True)), now=now)


def evaluate_all(*, now: datetime | None = None) -> EvaluationOutcome:
    return evaluate_instances(
        list(DBInstance.objects.filter(ACTIVE).values_list("pk", flat=True)), now=now
    )


def _as_json(value):
    """What the JSONField will give back, so unchanged evidence compares equal."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


@transaction.atomic
def _evaluate_batch(ids: list[int], now, policy) -> EvaluationOutcome:
    open_rows: dict[int, dict[str, Finding]] = defaultdict(dict)
    for row in Finding.objects.filter(instance_id__in=ids, resolved_at__isnull=True):
        open_rows[row.instance_id][row.finding_id] = row
    open_pairs = {
        iid: [(fid, row.severity) for fid, row in rows.items()] for iid, rows in open_rows.items()
    }
    all_facts = build_facts(ids, open_pairs)
    postures = {
        p.instance_id: p
        for p in InstancePosture.objects.filter(instance_id__in=[f.instance_id for f in all_facts])
    }
    new_findings, changed, seen, resolved = [], [], [], []
    new_postures, updated_postures, unchanged_postures, grade_changes = [], [], [], []
    for facts in all_facts:
        evaluation = evaluate(facts, now, policy)
        rows = open_rows.get(facts.instance_id, {})
        for result in evaluation.findings:
            evidence = _as_json(result.evidence)
            row = rows.get(result.id)
            if row is None:
                new_findings.append(
                    Finding(
                        instance_id=facts.instance_id,
                        finding_id=result.id,
                        severity=result.severity,
                        evidence=evidence,
                        remediation=result.remediation,
                        first_seen=now,
                        last_seen=now,
                    )
                )
            elif (row.severity, row.evidence, row.remediation) != (
                result.severity,
                evidence,
                result.remediation,
            ):
                row.severity, row.evidence, row.remediation = (
                    result.severity,
                    evidence,
                    result.remediation,
                )
                row.last_seen = now
                changed.append(row)
            else:
                seen.append(row.pk)
        raised = {result.id for result in evaluation.findings}
        resolved += [
            row.pk
            for fid, row in rows.items()
            if fid not in raised and fid not in evaluation.unknown
        ]
        posture = postures.get(facts.instance_id)
        previous = posture.grade if posture else ""
        if previous != evaluation.grade:
            grade_changes.append(
                GradeChange(
                    instance_id=facts.instance_id,
                    grade=evaluation.grade,
                    previous=previous,
                    changed_at=now,
                )
            )
        if posture is None:
            posture = InstancePosture(instance_id=facts.instance_id)
            _fill_posture(posture, evaluation, now, facts)
            new_postures.append(posture)
            continue
        before = _posture_values(posture)
        _fill_posture(posture, evaluation, now, facts)
        if _posture_values(posture) != before:
            updated_postures.append(posture)
        else:
            unchanged_postures.append(posture.pk)

    Finding.objects.bulk_create(new_findings, batch_size=BATCH_SIZE, ignore_conflicts=True)
    Finding.objects.bulk_update(
        changed, ["severity", "evidence", "remediation", "last_seen"], batch_size=BATCH_SIZE
    )
    if seen:
        Finding.objects.filter(pk__in=seen).update(last_seen=now)
    if resolved:
        Finding.objects.filter(pk__in=resolved).update(resolved_at=now)
    InstancePosture.objects.bulk_create(new_postures, batch_size=BATCH_SIZE, ignore_conflicts=True)
    InstancePosture.objects.bulk_update(updated_postures, _POSTURE_FIELDS, batch_size=BATCH_SIZE)
    if unchanged_postures:
        InstancePosture.objects.filter(pk__in=unchanged_postures).update(evaluated_at=now)
    GradeChange.objects.bulk_create(grade_changes, batch_size=BATCH_SIZE)
    return EvaluationOutcome(
        evaluated=len(all_facts),
        opened=len(new_findings),
        resolved=len(resolved),
        grade_changes=len(grade_changes),
    )


def _posture_values(posture: InstancePosture) -> tuple:
    return tuple(getattr(posture, name) for name in _POSTURE_FIELDS if name != "evaluated_at")


def _fill_posture(posture: InstancePosture, evaluation: Evaluation, now, facts) -> None:
    summary = evaluation.summary
    posture.evaluated_observation_id = facts.check.observation_id if facts.check else None
    posture.evaluated_synced_at = facts.synced_at
    severities = [f.severity for f in evaluation.findings] + [s for _, s in evaluation.carried]
    posture.grade = evaluation.grade
    posture.evaluated_at = now
    posture.transport_enforced = summary.transport_enforced
    posture.transport_enforced_source = summary.transport_enforced_source
    posture.tls_versions_configured = summary.tls_versions_configured
    posture.tls_versions_accepted = summary.tls_versions_accepted
    posture.tls_versions_rejected = summary.tls_versions_rejected
    posture.lowest_tls_accepted = summary.lowest_tls_accepted or ""
    posture.server_cert_not_after = summary.server_cert_not_after
    posture.server_cert_source = summary.server_cert_source
    posture.ca_valid_till = summary.ca_valid_till
    posture.finding_ids = evaluation.open_ids
    posture.open_findings = len(posture.finding_ids)
    posture.worst_severity = min(severities, key=severity_rank, default="")
    posture.unknowns = summary.unknowns
    posture.undetermined = evaluation.unknown
    posture.a_plus_blockers = list(evaluation.a_plus_blockers)
    for name in ("enforce_tls", "drop_legacy_tls"):
        readiness = getattr(summary, name)
        setattr(posture, f"{name}_readiness", readiness.state if readiness else "")
        setattr(posture, f"{name}_verdict", readiness.verdict if readiness else "")
