"""The fleet report (DESIGN.md "Interfaces"): one row per endpoint, as JSON or CSV.

`report_rows()` is shared by `posture_report`, the JSON export and the CSV/XLSX exports. It
reads the stored evaluation (InstancePosture, open Findings, TargetState) in a fixed number
of queries, whatever the number of endpoints. Unknown values are null, never guessed; the
`unknown` map says why each null is null.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from common.timeutil import iso_z
from inventory.models import DBInstance
from posture.catalogue import NO_EVIDENCE, grade_rank, severity_rank
from posture.models import Finding

# The keys of one instance row, in DESIGN.md's order; `unknown` carries the reasons.
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
    "tls_versions_configured",
    "tls_versions_accepted",
    "server_cert_not_after",
    "server_cert_source",
    "ca_identifier",
    "ca_valid_till",
    "last_checked",
    "check_status",
    "findings",
    "unknown",
)
FINDING_KEYS = ("id", "severity", "evidence", "remediation")
CSV_COLUMNS = (*[k for k in ROW_KEYS if k not in ("findings", "unknown")], "finding_ids")
NEVER_CHECKED = "never"


def _related(instance: DBInstance, name: str):
    try:
        return getattr(instance, name)
    except ObjectDoesNotExist:
        return None


def report_rows(instances: QuerySet[DBInstance]) -> list[dict]:
    """Report rows for these endpoints, in account / region / identifier order."""
    open_findings = Finding.objects.filter(resolved_at__isnull=True)
    queryset = (
        instances.select_related("account", "posture", "check_state")
        .prefetch_related(Prefetch("findings", queryset=open_findings, to_attr="open_list"))
        .order_by("account__name", "region", "identifier", "pk")
    )
    return [_row(instance) for instance in queryset]


def _row(instance: DBInstance) -> dict:
    posture = _related(instance, "posture")
    state = _related(instance, "check_state")
    last_checked = state.last_checked if state else None
    findings = sorted(instance.open_list, key=lambda f: (severity_rank(f.severity), f.finding_id))
    unknown = dict(posture.unknowns) if posture else {"grade": "not evaluated yet"}
    return {
        "provider": instance.provider,
        "account": instance.account.name,
        "region": instance.region,
        "kind": instance.kind,
        "identifier": instance.identifier,
        "engine": instance.engine,
        "engine_version": instance.engine_version or None,
        "endpoint": instance.endpoint or None,
        "grade": posture.grade if posture else NO_EVIDENCE,
        "transport_enforced": posture.transport_enforced if posture else None,
        "transport_enforced_source": (posture.transport_enforced_source or None)
        if posture
        else None,
        "tls_versions_configured": posture.tls_versions_configured if posture else None,
        "tls_versions_accepted": posture.tls_versions_accepted if posture else None,
        "server_cert_not_after": iso_z(posture.server_cert_not_after) if posture else None,
        "server_cert_source": (posture.server_cert_source or None) if posture else None,
        "ca_identifier": instance.ca_identifier or None,
        "ca_valid_till": iso_z(posture.ca_valid_till) if posture else None,
        "last_checked": iso_z(last_checked),
        "check_status": (state.status or NEVER_CHECKED) if last_checked else NEVER_CHECKED,
        "findings": [
            {
                "id": f.finding_id,
                "severity": f.severity,
                "evidence": f.evidence,
                "remediation": f.remediation,
            }
            for f in findings
        ],
        "unknown": unknown,
    }


def build_report(instances: QuerySet[DBInstance], *, now: datetime | None = None) -> dict:
    return {
        "generated_at": iso_z(now or timezone.now()),
        "instances": report_rows(instances),
    }


def render_json(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def render_csv(rows: list[dict]) -> str:
    """One line per endpoint: the scalar columns, lists space-separated, then finding ids."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        cells = [_cell(row[key]) for key in CSV_COLUMNS if key != "finding_ids"]
        cells.append(" ".join(f["id"] for f in row["findings"]))
        writer.writerow(cells)
    return buffer.getvalue()


def below_grade(rows: list[dict], minimum: str) -> list[dict]:
    """Rows whose grade is worse than `minimum`; `?` (no evidence) is below every minimum."""
    return [row for row in rows if grade_rank(row["grade"]) > grade_rank(minimum)]
