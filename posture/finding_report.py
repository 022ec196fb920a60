"""The findings report: one row per open finding, with its evidence and remediation.

The companion of the per-endpoint report (report.py) for auditors who want the evidence
itself; used by `posture_report --findings` and the dashboard's findings exports. Rows
stream a chunk at a time: a finding's evidence can be large, and a fleet has many.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from common.tabular import Column, csv_lines, json_document, kind_of, readable
from common.timeutil import iso_z
from inventory.models import DBInstance
from posture.catalogue import ENTRIES
from posture.models import Finding
from posture.report import CHUNK_SIZE, endpoint_identity

FINDING_ROW_KEYS = (
    "provider",
    "account",
    "region",
    "kind",
    "identifier",
    "endpoint",
    "id",
    "title",
    "severity",
    "first_seen",
    "last_seen",
    "evidence",
    "remediation",
)


def open_findings(
    instances: QuerySet[DBInstance], finding_ids: Iterable[str] = ()
) -> QuerySet[Finding]:
    """Open findings of these endpoints (optionally only these catalogue ids), in report
    order: account, region, identifier, then finding id."""
    findings = Finding.objects.filter(
        resolved_at__isnull=True, instance__in=instances.order_by().values("pk")
    )
    ids = list(finding_ids)
    if ids:
        findings = findings.filter(finding_id__in=ids)
    return in_report_order(findings)


def in_report_order(findings: QuerySet[Finding]) -> QuerySet[Finding]:
    """These findings with what a row needs, ordered by account, region, identifier, id."""
    return findings.select_related("instance__account").order_by(
        "instance__account__name",
        "instance__region",
        "instance__identifier",
        "instance_id",
        "finding_id",
    )


def finding_row(finding: Finding) -> dict:
    instance = finding.instance
    entry = ENTRIES.get(finding.finding_id)
    return {
        **endpoint_identity(instance),
        "id": finding.finding_id,
        "title": entry.title if entry else None,
        "severity": finding.severity,
        "first_seen": iso_z(finding.first_seen),
        "last_seen": iso_z(finding.last_seen),
        "evidence": finding.evidence,
        "remediation": finding.remediation,
    }


def iter_finding_rows(findings: QuerySet[Finding], chunk_size: int = CHUNK_SIZE) -> Iterator[dict]:
    for finding in findings.iterator(chunk_size=chunk_size):
        yield finding_row(finding)


FINDING_COLUMNS: tuple[Column, ...] = tuple(
    Column(key, readable(key), lambda row, key=key: row[key], kind_of(key))
    for key in FINDING_ROW_KEYS
)


def findings_csv_lines(findings: QuerySet[Finding]) -> Iterator[str]:
    return csv_lines(FINDING_COLUMNS, iter_finding_rows(findings))


def findings_json(
    findings: QuerySet[Finding], *, now: datetime | None = None, head: dict | None = None
) -> Iterator[str]:
    head = {"generated_at": iso_z(now or timezone.now()), **(head or {})}
    return json_document(head, "findings", iter_finding_rows(findings))
