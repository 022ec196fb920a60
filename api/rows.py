"""The rows the API answers with. Endpoint and finding rows are the reports' own rows
(posture.report, posture.finding_report) plus the id that links them; runs are read here."""

from __future__ import annotations

from common.timeutil import iso_z
from posture.finding_report import finding_row
from posture.report import report_row

CERTIFICATE_KEYS = (
    "provider",
    "account",
    "region",
    "kind",
    "identifier",
    "endpoint",
    "server_cert_not_after",
    "server_cert_source",
    "ca_identifier",
    "ca_valid_till",
)


def endpoint_rows(instances) -> list[dict]:
    """`instances` come from with_report_relations()."""
    return [{"id": instance.pk, **report_row(instance)} for instance in instances]


def certificate_rows(instances) -> list[dict]:
    rows = []
    for instance in instances:
        row = report_row(instance, detail=False)
        rows.append({"endpoint_id": instance.pk, **{key: row[key] for key in CERTIFICATE_KEYS}})
    return rows


def finding_rows(findings) -> list[dict]:
    """`findings` come from posture.finding_report.in_report_order()."""
    return [{"endpoint_id": f.instance_id, **finding_row(f)} for f in findings]


def sync_run_rows(runs) -> list[dict]:
    return [
        {
            "id": run.pk,
            "account": run.account.name,
            "provider": run.account.provider,
            "started_at": iso_z(run.started_at),
            "finished_at": iso_z(run.finished_at),
            "status": run.status,
            "trigger": run.trigger,
            "error": run.error,
            "instances_seen": run.instances_seen,
            "created": run.created,
            "changed": run.changed,
            "marked_gone": run.marked_gone,
            "api_calls": run.api_calls,
            "regions": [
                {
                    "region": region.region,
                    "status": region.status,
                    "error": region.error,
                    "warnings": [str(w) for w in region.warnings or ()],
                    "instances_found": region.instances_found,
                    "api_calls": region.api_calls,
                    "started_at": iso_z(region.started_at),
                    "finished_at": iso_z(region.finished_at),
                }
                for region in run.regions.all()
            ],
        }
        for run in runs
    ]


def check_run_rows(runs) -> list[dict]:
    return [
        {
            "id": run.pk,
            "started_at": iso_z(run.started_at),
            "finished_at": iso_z(run.finished_at),
            "status": run.status,
            "trigger": run.trigger,
            "network_zone": run.network_zone,
            "targets": run.targets,
            "ok": run.ok,
            "failed": run.failed,
            "workers": run.workers,
            "error": run.error,
        }
        for run in runs
    ]
