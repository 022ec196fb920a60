"""posture_report: the JSON schema of docs/design.md, CSV, --account, and the --min-grade gate."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import time_machine
from django.core.management import CommandError, call_command

from inventory.models import CloudAccount
from posture.report import CSV_COLUMNS
from posture.services import evaluate_all
from tests.posture.builders import NOW, clean_evidence
from tests.posture.rows import instance, instance_fact, observe, rst, sync, tls_version

pytestmark = pytest.mark.django_db

# The instance keys of docs/design.md's report example, plus `unknown` (why a null is null).
DESIGN_ROW_KEYS = {
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
}
# What the report adds to docs/design.md's schema: why each null is null, ApsaraDB's two SSL facts.
EXTRA_ROW_KEYS = {
    "unknown",
    "ssl_enabled",
    "ssl_forced",
    "evaluated_at",
    "evaluation_behind",
    "lowest_tls_accepted",
    "lowest_tls_accepted_source",
    "enforce_tls_readiness",
    "enforce_tls_verdict",
    "drop_legacy_tls_readiness",
    "drop_legacy_tls_verdict",
}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def fleet():
    """prod-aws: orders-db (checked, A+), legacy-db (API only, C); staging: stage-db (never
    evaluated)."""
    with time_machine.travel(NOW, tick=False):
        prod = CloudAccount.objects.create(name="prod-aws", provider="aws")
        staging = CloudAccount.objects.create(name="staging", provider="aws")
        sync(
            prod,
            instance_fact("orders-db"),
            instance_fact("legacy-db", parameters=(rst("0"), tls_version("TLSv1.2,TLSv1.3"))),
        )
        observe(instance(prod, "orders-db"), clean_evidence(), NOW)
        evaluate_all()
        sync(staging, instance_fact("stage-db"))
        yield


def _report(*args):
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("posture_report", *args, stdout=out)
    return out.getvalue()


def test_json_report_follows_the_documented_schema(fleet):
    report = json.loads(_report())
    assert set(report) == {"generated_at", "instances"}
    assert report["generated_at"] == "2026-11-23T08:00:00Z"
    rows = {row["identifier"]: row for row in report["instances"]}
    assert list(rows) == ["legacy-db", "orders-db", "stage-db"]
    for row in rows.values():
        assert set(row) == DESIGN_ROW_KEYS | EXTRA_ROW_KEYS
        for key in ("server_cert_not_after", "ca_valid_till", "last_checked"):
            assert row[key] is None or ISO_Z.match(row[key])
        for finding in row["findings"]:
            assert set(finding) == {"id", "severity", "evidence", "remediation"}

    orders = rows["orders-db"]
    assert orders["grade"] == "A+" and orders["findings"] == []
    assert orders["endpoint"] == "orders-db.abc.us-east-1.rds.amazonaws.com:3306"
    assert (orders["transport_enforced"], orders["transport_enforced_source"]) == (
        True,
        "live-variable",
    )
    assert orders["tls_versions_accepted"] == ["TLSv1.2", "TLSv1.3"]
    assert orders["server_cert_source"] == "live-wire"
    assert orders["ca_identifier"] == "rds-ca-rsa2048-g1"
    assert orders["ca_valid_till"] == "2061-05-24T22:59:00Z"
    assert (orders["last_checked"], orders["check_status"]) == ("2026-11-23T08:00:00Z", "ok")

    legacy = rows["legacy-db"]
    assert legacy["grade"] == "C"
    # Never checked: the API's facts alone never vouch for more than B
    # (docs/design.md "Finding catalogue").
    assert [f["id"] for f in legacy["findings"]] == [
        "transport.not_enforced",
        "evidence.incomplete",
    ]
    assert legacy["findings"][0]["severity"] == "high"
    assert legacy["tls_versions_accepted"] is None
    assert legacy["unknown"]["tls_versions_accepted"] == "never checked"
    assert (legacy["last_checked"], legacy["check_status"]) == (None, "never")

    stage = rows["stage-db"]
    assert stage["grade"] == "?" and stage["transport_enforced"] is None
    assert stage["unknown"] == {"grade": "not evaluated yet"}


def test_csv_report_one_row_per_instance(fleet):
    rows = list(csv.DictReader(io.StringIO(_report("--format", "csv"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    by_name = {row["identifier"]: row for row in rows}
    assert len(rows) == 3
    assert by_name["legacy-db"]["finding_ids"] == "transport.not_enforced evidence.incomplete"
    assert by_name["legacy-db"]["transport_enforced"] == "false"
    assert by_name["orders-db"]["tls_versions_accepted"] == "TLSv1.2 TLSv1.3"
    assert by_name["stage-db"]["transport_enforced"] == ""


def test_account_filter(fleet):
    report = json.loads(_report("--account", "staging"))
    assert [row["identifier"] for row in report["instances"]] == ["stage-db"]
    with pytest.raises(CommandError, match="no account named 'nope'"):
        _report("--account", "nope")


def test_min_grade_exits_3_when_an_instance_is_below(fleet):
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "posture_report",
            "--min-grade",
            "B",
            "--account",
            "prod-aws",
            stdout=io.StringIO(),
            stderr=err,
        )
    assert exit_info.value.code == 3
    assert "prod-aws/legacy-db (C)" in err.getvalue()
    assert "orders-db" not in err.getvalue()


def test_min_grade_passes_when_everything_meets_it(fleet):
    assert json.loads(_report("--min-grade", "C", "--account", "prod-aws"))["instances"]


def test_question_mark_is_below_any_minimum(fleet):
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "posture_report", "--min-grade", "F", "--account", "staging", stdout=io.StringIO()
        )
    assert exit_info.value.code == 3
