"""The fleet report (docs/design.md "Interfaces that scripts and CI pipelines rely on"): one
row per endpoint, as JSON, CSV or XLSX.

`report_row()` is shared by `posture_report`, the dashboard's instance list and its JSON,
CSV and XLSX exports. Rows read the stored evaluation (InstancePosture, open Findings,
TargetState) in a fixed number of queries per chunk, whatever the number of endpoints, and
`iter_report_rows()` keeps only one chunk in memory. Unknown values are null, never
guessed; the `unknown` map says why each null is null.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from common.tabular import Column, csv_lines, json_document, kind_of, readable
from common.timeutil import iso_z
from inventory.models import DBInstance
from posture.grades import NO_EVIDENCE, grade_rank, severity_rank
from posture.models import Finding, is_behind

# The keys of one instance row, in docs/design.md's order plus the ApsaraDB SSL facts; `unknown`
# carries the reasons.
ROW_KEYS = (
    "provider",
    "account",
    "region",
    "kind",
    "identifier",
    "engine",
    "engine_version",
    "endpoint",
    "grade",
    "transport_enforced",
    "transport_enforced_source",
    # ApsaraDB's two facts (SSLEnabled, ForceEncryption), never merged; null elsewhere.
    "ssl_enabled",
    "ssl_forced",
    "tls_versions_configured",
    "tls_versions_accepted",
    # The lowest version a handshake was accepted with, and where that was learned (the
    # auditor's "TLS 1.2 or higher" in one cell).
    "lowest_tls_accepted",
    "lowest_tls_accepted_source",
    "server_cert_not_after",
    "server_cert_source",
    "ca_identifier",
    "ca_valid_till",
    "last_checked",
    "check_status",
    # When the grade was evaluated, and whether newer evidence (a check or sync since) awaits
    # an evaluation: then the grade may be out of date.
    "evaluated_at",
    "evaluation_behind",
    # Would enforcing TLS / refusing TLS 1.0–1.1 break a client seen within the window?
    # ready | not-ready | unknown | done, and the verdict in words (posture/rules_clients.py).
    "enforce_tls_readiness",
    "enforce_tls_verdict",
    "drop_legacy_tls_readiness",
    "drop_legacy_tls_verdict",
    "findings",
    "unknown",
)
FINDING_KEYS = ("id", "severity", "evidence", "remediation")
CSV_COLUMNS = (*[k for k in ROW_KEYS if k not in ("findings", "unknown")], "finding_ids")
NEVER_CHECKED = "never"
REPORT_ORDER = ("account__name", "region", "identifier", "pk")
# Endpoints per database round trip when streaming: bounds memory, not query count per row.
CHUNK_SIZE = 500


def _related(instance: DBInstance, name: str):
    try:
        return getattr(instance, name)
    except ObjectDoesNotExist:
        return None


_UNREAD = (
    "details",
    "lookup_errors",
    "tags",
    "posture__undetermined",
    "posture__a_plus_blockers",
    "posture__finding_ids",
)


def with_report_relations(
    instances: QuerySet[DBInstance], *, detail: bool = True
) -> QuerySet[DBInstance]:
    """What `report_row()` reads, fetched with the endpoints. Without `detail` the open
    findings come without evidence and remediation (ids and severities are enough for CSV)."""
    open_findings = Finding.objects.filter(resolved_at__isnull=True)
    if not detail:
        open_findings = open_findings.only("instance_id", "finding_id", "severity")
    return (
        instances.select_related("account", "posture", "check_state")
        # JSON a row never reads: decoding it is most of the cost of a large export.
        .defer(*_UNREAD)
        .prefetch_related(Prefetch("findings", queryset=open_findings, to_attr="open_list"))
    )


def report_rows(instances: QuerySet[DBInstance]) -> list[dict]:
    """Report rows for these endpoints, in account / region / identifier order."""
    queryset = with_report_relations(instances).order_by(*REPORT_ORDER)
    return [report_row(instance) for instance in queryset]


def iter_report_rows(
    instances: QuerySet[DBInstance], *, detail: bool = True, chunk_size: int = CHUNK_SIZE
) -> Iterator[dict]:
    """Report rows one chunk of endpoints at a time, in the queryset's order (the report's
    order when it has none)."""
    if not instances.ordered:
        instances = instances.order_by(*REPORT_ORDER)
    queryset = with_report_relations(instances, detail=detail)
    for instance in queryset.iterator(chunk_size=chunk_size):
        yield report_row(instance, detail=detail)


def endpoint_identity(instance: DBInstance) -> dict:
    """Which endpoint a row is about: the leading keys of instance and finding rows."""
    return {
        "provider": instance.provider,
        "account": instance.account.name,
        "region": instance.region,
        "kind": instance.kind,
        "identifier": instance.identifier,
        "endpoint": instance.endpoint or None,
    }


def report_row(instance: DBInstance, *, detail: bool = True) -> dict:
    """One endpoint's row of the report schema; `instance` comes from
    `with_report_relations()`. Without `detail`, findings carry only id and severity."""
    posture = _related(instance, "posture")
    state = _related(instance, "check_state")
    last_checked = state.last_checked if state else None
    findings = sorted(instance.open_list, key=lambda f: (severity_rank(f.severity), f.finding_id))
    unknown = dict(posture.unknowns) if posture else {"grade": "not evaluated yet"}
    identity = endpoint_identity(instance)
    return {
        **{key: identity[key] for key in ("provider", "account", "region", "kind", "identifier")},
        "engine": instance.engine,
        "engine_version": instance.engine_version or None,
        "endpoint": identity["endpoint"],
        "grade": posture.grade if posture else NO_EVIDENCE,
        "transport_enforced": posture.transport_enforced if posture else None,
        "transport_enforced_source": (posture.transport_enforced_source or None)
        if posture
        else None,
        "ssl_enabled": instance.ssl_enabled,
        "ssl_forced": instance.ssl_forced,
        "tls_versions_configured": posture.tls_versions_configured if posture else None,
        "tls_versions_accepted": posture.tls_versions_accepted if posture else None,
        "lowest_tls_accepted": (posture.lowest_tls_accepted or None) if posture else None,
        "lowest_tls_accepted_source": "live-wire"
        if posture and posture.lowest_tls_accepted
        else None,
        "server_cert_not_after": iso_z(posture.server_cert_not_after) if posture else None,
        "server_cert_source": (posture.server_cert_source or None) if posture else None,
        "ca_identifier": instance.ca_identifier or None,
        "ca_valid_till": iso_z(posture.ca_valid_till) if posture else None,
        "last_checked": iso_z(last_checked),
        "check_status": (state.status or NEVER_CHECKED) if last_checked else NEVER_CHECKED,
        "evaluated_at": iso_z(posture.evaluated_at) if posture else None,
        "evaluation_behind": is_behind(instance, posture, state),
        **{
            name: (getattr(posture, name) or None) if posture else None
            for name in (
                "enforce_tls_readiness",
                "enforce_tls_verdict",
                "drop_legacy_tls_readiness",
                "drop_legacy_tls_verdict",
            )
        },
        "findings": [
            {
                "id": f.finding_id,
                "severity": f.severity,
                "evidence": f.evidence,
                "remediation": f.remediation,
            }
            if detail
            else {"id": f.finding_id, "severity": f.severity}
            for f in findings
        ],
        "unknown": unknown,
    }


def report_json(
    instances: QuerySet[DBInstance], *, now: datetime | None = None, head: dict | None = None
) -> Iterator[str]:
    """The report as one JSON document, `{"generated_at": …, "instances": [row, …]}`,
    streamed one endpoint at a time."""
    head = {"generated_at": iso_z(now or timezone.now()), **(head or {})}
    return json_document(head, "instances", iter_report_rows(instances))


def _key(key: str):
    return lambda row: row[key]


def _finding_ids(row: dict) -> list[str]:
    return [f["id"] for f in row["findings"]]


# The flat table of the report: its scalar columns, lists space-separated, then finding ids.
REPORT_COLUMNS: tuple[Column, ...] = tuple(
    Column(
        key,
        readable(key),
        _finding_ids if key == "finding_ids" else _key(key),
        kind_of(key),
    )
    for key in CSV_COLUMNS
)


def report_csv_lines(instances: QuerySet[DBInstance]) -> Iterator[str]:
    return csv_lines(REPORT_COLUMNS, iter_report_rows(instances, detail=False))


def endpoints_below(instances: QuerySet[DBInstance], minimum: str) -> list[tuple[str, str]]:
    """("account/identifier", grade) of each endpoint worse than `minimum`, in report order.
    One query; an endpoint never evaluated counts as `?`."""
    rows = instances.order_by(*REPORT_ORDER).values_list(
        "account__name", "identifier", "posture__grade"
    )
    graded = ((f"{account}/{name}", grade or NO_EVIDENCE) for account, name, grade in rows)
    return [(label, grade) for label, grade in graded if grade_rank(grade) > grade_rank(minimum)]
