"""Evaluated posture: findings with history, each endpoint's grade and its history."""

from django.db import models
from django.db.models import F, Q

from inventory.models import DBInstance
from posture.grades import SEVERITIES


class Severity(models.TextChoices):
    CRITICAL = "critical", "critical"
    HIGH = "high", "high"
    MEDIUM = "medium", "medium"
    LOW = "low", "low"
    INFO = "info", "info"


# Worst first; used for ordering and "worst severity" summaries.
SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


class Finding(models.Model):
    """One catalogue finding on one endpoint, from first seen until resolved.

    A finding that comes back after being resolved is a new row, so history stays honest.
    """

    instance = models.ForeignKey(DBInstance, on_delete=models.CASCADE, related_name="findings")
    finding_id = models.CharField(max_length=64, db_index=True, help_text="Catalogue id.")
    severity = models.CharField(max_length=16, choices=Severity.choices)
    evidence = models.JSONField(default=dict)
    remediation = models.TextField(blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["instance", "finding_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "finding_id"],
                condition=Q(resolved_at__isnull=True),
                name="finding_one_open_per_id",
            )
        ]
        indexes = [
            models.Index(fields=["finding_id", "resolved_at"]),
            models.Index(fields=["resolved_at"]),
        ]

    def __str__(self):
        return f"{self.finding_id} on {self.instance_id}"


class InstancePosture(models.Model):
    """The current evaluation of one endpoint, flattened for lists, reports and exports."""

    instance = models.OneToOneField(
        DBInstance, on_delete=models.CASCADE, primary_key=True, related_name="posture"
    )
    grade = models.CharField(max_length=2, db_index=True, help_text="A+ … F, or ? (no evidence)")
    evaluated_at = models.DateTimeField()
    transport_enforced = models.BooleanField(null=True)
    transport_enforced_source = models.CharField(max_length=64, blank=True)
    tls_versions_configured = models.JSONField(null=True, blank=True)
    tls_versions_accepted = models.JSONField(null=True, blank=True)
    # Refused by a handshake (tlsposture_tls_version_accepted 0); a version in neither list
    # is unknown. Null: not evaluated since this was recorded, or nothing was learned.
    tls_versions_rejected = models.JSONField(null=True, blank=True)
    lowest_tls_accepted = models.CharField(max_length=16, blank=True, db_index=True)
    server_cert_not_after = models.DateTimeField(null=True, blank=True, db_index=True)
    server_cert_source = models.CharField(max_length=64, blank=True)
    ca_valid_till = models.DateTimeField(null=True, blank=True)
    open_findings = models.PositiveIntegerField(default=0)
    worst_severity = models.CharField(max_length=16, blank=True)
    finding_ids = models.JSONField(default=list, blank=True)
    # Why a fact is unknown ({"transport_enforced": "never checked"}): shown, never guessed.
    unknowns = models.JSONField(default=dict, blank=True)
    # Catalogue ids the rules could not decide, with why (open ones stay open).
    undetermined = models.JSONField(default=dict, blank=True)
    # What stands between the endpoint and A+ (empty for A+).
    a_plus_blockers = models.JSONField(default=list, blank=True)
    # The evidence this evaluation read: the latest observation's id and the sync time of the
    # inventory facts. Newer evidence than these means the grade is behind (evaluation_behind).
    evaluated_observation_id = models.BigIntegerField(null=True, blank=True)
    evaluated_synced_at = models.DateTimeField(null=True, blank=True)
    # Would enforcing TLS / refusing TLS 1.0–1.1 break a client seen within the window?
    # ready | not-ready | unknown | done (already so), and the verdict in words
    # (posture/rules_clients.py).
    enforce_tls_readiness = models.CharField(max_length=16, blank=True, db_index=True)
    enforce_tls_verdict = models.TextField(blank=True)
    drop_legacy_tls_readiness = models.CharField(max_length=16, blank=True, db_index=True)
    drop_legacy_tls_verdict = models.TextField(blank=True)

    def __str__(self):
        return f"{self.instance_id}: {self.grade}"


def evaluation_behind() -> Q:
    """DBInstance rows whose stored evaluation is older than their newest evidence: never
    evaluated, a check stored after it (observation ids only grow), or a sync after it."""
    return (
        Q(posture__isnull=True)
        | Q(check_state__latest_id__gt=F("posture__evaluated_observation_id"))
        | Q(
            check_state__latest__isnull=False,
            posture__evaluated_observation_id__isnull=True,
        )
        | Q(last_seen__gt=F("posture__evaluated_synced_at"))
        | Q(posture__evaluated_synced_at__isnull=True)
    )


def is_behind(instance: DBInstance, posture: InstancePosture | None, state) -> bool:
    """evaluation_behind() for one row already in memory (its posture and TargetState)."""
    if posture is None or posture.evaluated_synced_at is None:
        return True
    latest = state.latest_id if state is not None else None
    if latest is not None and (posture.evaluated_observation_id or 0) < latest:
        return True
    return instance.last_seen > posture.evaluated_synced_at


class GradeChange(models.Model):
    """Each time an endpoint's grade changed, and to what."""

    instance = models.ForeignKey(DBInstance, on_delete=models.CASCADE, related_name="grade_history")
    grade = models.CharField(max_length=2)
    previous = models.CharField(max_length=2, blank=True)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at"]
        indexes = [models.Index(fields=["instance", "-changed_at"])]

    def __str__(self):
        return f"{self.instance_id}: {self.previous or '–'} → {self.grade}"
