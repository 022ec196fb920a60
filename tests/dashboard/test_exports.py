"""Exports of endpoints and findings as CSV, XLSX and JSON: from the list pages with their
filters, from posture_report, and as admin actions; formula cells neutralised."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from django.core.management import CommandError, call_command
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse
from openpyxl import load_workbook

from common.tabular import readable
from dashboard.exports import STAMP_KEYS
from inventory.models import DBInstance
from posture.finding_report import FINDING_ROW_KEYS
from posture.models import Finding
from posture.report import CSV_COLUMNS
from posture.services import evaluate_all
from tests.dashboard.conftest import body
from tests.posture.rows import instance_fact, rst, sync

pytestmark = pytest.mark.django_db

HOSTILE = '=HYPERLINK("http://evil.example/","open me")'


def _export(client, kind: str, fmt: str, query: str = ""):
    response = client.get(reverse(f"dashboard:{kind}-export", args=[fmt]) + query)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return response


def _report(*args) -> str:
    out = io.StringIO()
    call_command("posture_report", *args, stdout=out)
    return out.getvalue()


def _sheet(response, *, raw: bool = False) -> list[list]:
    """The first sheet's rows; its readable headers turned back into the report's keys
    unless `raw`."""
    assert isinstance(response, FileResponse)
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    header, *rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    if not raw:
        keys = {readable(key): key for key in (*CSV_COLUMNS, *FINDING_ROW_KEYS)}
        header = [keys[title] for title in header]
    return [header, *rows]


def test_instance_csv_streams_the_filtered_rows_as_posture_report_does(staff_client, world):
    response = _export(staff_client, "instances", "csv", "?account=prod-aws")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    pieces = iter(response.streaming_content)
    header = ",".join([*CSV_COLUMNS, *STAMP_KEYS]) + "\n"
    assert next(pieces).decode() == header  # the header comes first
    text = header + b"".join(pieces).decode()
    rows = {row["identifier"]: row for row in csv.DictReader(io.StringIO(text))}
    # The export's record on every row: when, by whom, with which filters.
    assert {(r["generated_by"], r["filters"]) for r in rows.values()} == {
        ("auditor", "Account: prod-aws")
    }
    assert set(rows) == {"orders-db", "legacy-db", "expiring-db", "rotation-db", "eu-db"}
    assert rows["legacy-db"]["finding_ids"] == (
        "transport.not_enforced evidence.incomplete cert.expiring"
    )
    assert rows["legacy-db"]["transport_enforced"] == "false"
    assert rows["orders-db"]["tls_versions_accepted"] == "TLSv1.2 TLSv1.3"
    # Without its record, the same table posture_report prints.
    without = [line.rsplit(",", 3)[0] for line in text.splitlines()]
    assert without == _report("--format", "csv", "--account", "prod-aws").splitlines()


def test_instance_csv_honours_every_filter_of_the_page(staff_client, world):
    text = body(_export(staff_client, "instances", "csv", "?grade=C&tag=env%3Dprod"))
    assert [row["identifier"] for row in csv.DictReader(io.StringIO(text))] == ["expiring-db"]


def test_instance_json_export_is_posture_reports_json_for_the_same_filter(staff_client, world):
    response = _export(staff_client, "instances", "json", "?account=prod-aws")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/json"
    exported = body(response)
    report = json.loads(exported)
    # The same document, plus the export's record of who asked and with which filters.
    assert (report.pop("generated_by"), report.pop("filters")) == ("auditor", "Account: prod-aws")
    assert report == json.loads(_report("--format", "json", "--account", "prod-aws"))
    assert report["generated_at"] == "2026-11-23T08:00:00Z"
    legacy = next(r for r in report["instances"] if r["identifier"] == "legacy-db")
    assert {f["id"] for f in legacy["findings"]} == {
        "transport.not_enforced",
        "evidence.incomplete",  # never checked
        "cert.expiring",
    }
    assert all(f["remediation"] and f["evidence"] for f in legacy["findings"])


def test_instance_xlsx_has_the_report_columns_and_the_filtered_rows(staff_client, world):
    response = _export(staff_client, "instances", "xlsx", "?provider=aws&sort=grade")  # worst first
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    header, *rows = _sheet(response)
    assert tuple(header) == CSV_COLUMNS
    by_name = {row[header.index("identifier")]: row for row in rows}
    assert list(by_name) == ["rotation-db", "legacy-db", "expiring-db", "orders-db", "eu-db"]
    assert by_name["orders-db"][header.index("grade")] == "A+"
    assert by_name["legacy-db"][header.index("transport_enforced")] is False  # a real boolean
    assert isinstance(by_name["orders-db"][header.index("server_cert_not_after")], datetime)
    titles = _sheet(_export(staff_client, "instances", "xlsx", "?provider=aws"), raw=True)[0]
    assert titles[:3] == ["Provider", "Account", "Region"]  # readable, not snake_case


def test_findings_export_one_row_per_finding_with_evidence_and_remediation(staff_client, world):
    text = body(_export(staff_client, "findings", "csv", "?account=prod-aws"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == (*FINDING_ROW_KEYS, *STAMP_KEYS)
    open_ids = Finding.objects.filter(
        resolved_at__isnull=True, instance__account__name="prod-aws"
    ).values_list("instance__identifier", "finding_id")
    assert sorted((r["identifier"], r["id"]) for r in rows) == sorted(open_ids)
    legacy = next(r for r in rows if r["id"] == "transport.not_enforced")
    assert json.loads(legacy["evidence"])  # the evidence itself, as JSON text
    assert "require_secure_transport" in legacy["remediation"]
    assert legacy["title"] == "TLS is not enforced (require_secure_transport)"


def test_findings_export_narrows_to_the_finding_filter(staff_client, world):
    text = body(_export(staff_client, "findings", "csv", "?finding=transport.not_enforced"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {(r["identifier"], r["id"]) for r in rows} == {
        ("legacy-db", "transport.not_enforced"),
        ("rm-orders", "transport.not_enforced"),
    }
    document = json.loads(body(_export(staff_client, "findings", "json", "?finding=ca.expired")))
    assert [(f["identifier"], f["id"]) for f in document["findings"]] == [
        ("rotation-db", "ca.expired")
    ]
    header, *cells = _sheet(_export(staff_client, "findings", "xlsx", "?severity=critical"))
    assert tuple(header) == FINDING_ROW_KEYS
    assert [row[header.index("id")] for row in cells] == ["ca.expired"]


def test_formula_cells_are_neutralised_in_csv_and_xlsx(staff_client, world):
    sync(world["prod"], instance_fact(HOSTILE, resource_id="arn:hostile", parameters=(rst("0"),)))
    evaluate_all()
    query = "?q=HYPERLINK"
    csv_rows = list(
        csv.DictReader(io.StringIO(body(_export(staff_client, "instances", "csv", query))))
    )
    assert [r["identifier"] for r in csv_rows] == ["'" + HOSTILE]
    header, row = _sheet(_export(staff_client, "instances", "xlsx", query))
    assert row[header.index("identifier")] == "'" + HOSTILE  # text, not a formula
    finding_rows = csv.DictReader(
        io.StringIO(body(_export(staff_client, "findings", "csv", query)))
    )
    assert {r["identifier"] for r in finding_rows} == {"'" + HOSTILE}
    header, *cells = _sheet(_export(staff_client, "findings", "xlsx", query))
    assert {c[header.index("identifier")] for c in cells} == {"'" + HOSTILE}
    reported = csv.DictReader(io.StringIO(_report("--format", "csv")))
    assert "'" + HOSTILE in {r["identifier"] for r in reported}
    # JSON is data, not a spreadsheet: the value stays as it is
    rows = json.loads(body(_export(staff_client, "instances", "json", query)))["instances"]
    assert rows[0]["identifier"] == HOSTILE


def test_posture_report_writes_xlsx_and_findings(world, tmp_path):
    target = tmp_path / "fleet.xlsx"
    call_command("posture_report", "--format", "xlsx", "--output", str(target))
    rows = list(load_workbook(target, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 1 + 6
    findings = list(csv.DictReader(io.StringIO(_report("--findings", "--format", "csv"))))
    assert (
        len(findings)
        == Finding.objects.filter(resolved_at__isnull=True, instance__gone_at__isnull=True).count()
    )
    document = json.loads(_report("--findings", "--account", "cn-aliyun"))
    assert [(f["identifier"], f["id"]) for f in document["findings"]] == [
        ("rm-orders", "evidence.incomplete"),
        ("rm-orders", "transport.not_enforced"),
    ]
    json_file = tmp_path / "fleet.json"
    call_command("posture_report", "--output", str(json_file), stdout=io.StringIO())
    assert json_file.read_text() == _report()
    with pytest.raises(CommandError, match="--output"):
        call_command("posture_report", "--format", "xlsx", stdout=io.StringIO())


def _admin_action(client, model: str, action: str, pks: list[int]):
    return client.post(
        reverse(f"admin:{model}_changelist"),
        {"action": action, "_selected_action": [str(pk) for pk in pks]},
    )


def test_admin_exports_the_selected_endpoints(admin_client, world):
    chosen = DBInstance.objects.filter(identifier__in=["orders-db", "rm-orders"])
    response = _admin_action(
        admin_client, "inventory_dbinstance", "export_instances_csv", [i.pk for i in chosen]
    )
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [r["identifier"] for r in rows] == ["rm-orders", "orders-db"]
    response = _admin_action(
        admin_client, "inventory_dbinstance", "export_instances_json", [chosen[0].pk]
    )
    assert len(json.loads(body(response))["instances"]) == 1


def test_admin_exports_the_selected_findings(admin_client, world):
    chosen = Finding.objects.filter(finding_id__in=["ca.expired", "transport.not_enforced"])
    response = _admin_action(
        admin_client, "posture_finding", "export_findings_xlsx", [f.pk for f in chosen]
    )
    header, *rows = _sheet(response)
    assert sorted(r[header.index("id")] for r in rows) == sorted(f.finding_id for f in chosen)
    assert all(r[header.index("remediation")] for r in rows)


def test_admin_export_actions_are_not_reachable_for_non_staff(viewer_client, world):
    pk = DBInstance.objects.get(identifier="orders-db").pk
    response = _admin_action(viewer_client, "inventory_dbinstance", "export_instances_csv", [pk])
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
