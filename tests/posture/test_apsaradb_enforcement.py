"""ApsaraDB: SSL enabled and SSL forced are two facts, and "not enforced" is stated when the
API says so — through the real SDK against the local RDS API (fleet/aliyun_api.py), then
sync, evaluation and the report, as a user runs them. No check runs: only the API speaks."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from common.timeutil import iso_z
from fleet.aliyun_api import AliyunApiServer
from inventory.models import CloudAccount, DBInstance
from inventory.services import sync_account

pytestmark = pytest.mark.django_db

AK, SK = "test-ak", "test-sk-not-a-real-secret"
REGION = "cn-hangzhou"
EXPIRES = iso_z(datetime.now(UTC).replace(microsecond=0) + timedelta(days=300))


def _instance(instance_id: str, ssl: dict | None, running: dict | None) -> dict:
    entry = {
        "DBInstanceId": instance_id,
        "EngineVersion": "8.0",
        "ZoneId": f"{REGION}-h",
        "ConnectionString": f"{instance_id}.mysql.rds.aliyuncs.com",
        "attribute": {"Port": "3306"},
    }
    if ssl is not None:
        entry["ssl"] = ssl
    if running is not None:
        entry["parameters"] = {"running": running}
    return entry


ENABLED_NOT_FORCED = {
    "SSLEnabled": "Yes",
    "ForceEncryption": "0",
    "CAType": "aliyun",
    "RequireUpdate": "No",
    "SSLExpireTime": EXPIRES,
    "ConnectionString": "rm-enabled.mysql.rds.aliyuncs.com",
}
WORLD = [
    # The instance of issue 13: SSL on, not forced, running list without the variable.
    _instance("rm-enabled", ENABLED_NOT_FORCED, {"tls_version": "TLSv1.2,TLSv1.3"}),
    _instance("rm-off", {"SSLEnabled": "No"}, {"tls_version": "TLSv1.2"}),
    _instance("rm-unread", ENABLED_NOT_FORCED, {"tls_version": "TLSv1.2,TLSv1.3"}),
]


@pytest.fixture
def account(monkeypatch):
    monkeypatch.setenv("TLSPOSTURE_CRED_TEST_ALIYUN_AK", AK)
    monkeypatch.setenv("TLSPOSTURE_CRED_TEST_ALIYUN_SK", SK)
    with AliyunApiServer() as api:
        api.load(
            {
                "access_keys": {AK: {"secret": SK}},
                "regions": {REGION: {"zones": [f"{REGION}-h"], "instances": WORLD}},
            }
        )
        api.inject(
            "DescribeParameters",
            instance="rm-unread",
            status=403,
            code="Forbidden.RAM",
            message="You are not authorized to do this action.",
        )
        yield CloudAccount.objects.create(
            name="cn-aliyun",
            provider="aliyun",
            regions=[REGION],
            access_key_id_env="TLSPOSTURE_CRED_TEST_ALIYUN_AK",
            access_key_secret_env="TLSPOSTURE_CRED_TEST_ALIYUN_SK",
            endpoint=api.endpoint,
            protocol="http",
        )


def _report() -> dict[str, dict]:
    out = io.StringIO()
    call_command("posture_report", "--format", "json", stdout=out)
    return {row["identifier"]: row for row in json.loads(out.getvalue())["instances"]}


def test_enabled_but_not_forced_and_not_required_is_not_enforced(account):
    sync_account(account)
    rows = _report()

    enabled = rows["rm-enabled"]
    assert (enabled["ssl_enabled"], enabled["ssl_forced"]) == (True, False)  # two facts
    assert enabled["transport_enforced"] is False
    assert enabled["transport_enforced_source"] == "api:apsaradb-ssl+engine-default"
    assert "transport_enforced" not in enabled["unknown"]
    (finding,) = [f for f in enabled["findings"] if f["id"] == "transport.not_enforced"]
    # The evidence names both sources: ForceEncryption and the running parameter list.
    sources = finding["evidence"]["transport_enforced"]["raw"]
    assert sources["force_encryption"]["source"] == "api:apsaradb-ssl"
    assert sources["force_encryption"]["value"] is False
    assert sources["require_secure_transport"] == {
        "raw": None,
        "value": False,
        "source": "engine-default",
        "source_name": "api:apsaradb-parameters",
        "at": sources["require_secure_transport"]["at"],
    }
    assert "ModifyDBInstanceSSL" in finding["remediation"]
    assert "--ForceEncryption 1" in finding["remediation"]
    assert enabled["grade"] not in ("A+", "A")


def test_ssl_off_is_not_enforced(account):
    sync_account(account)
    off = _report()["rm-off"]
    assert (off["ssl_enabled"], off["ssl_forced"]) == (False, False)
    assert off["transport_enforced"] is False
    assert off["transport_enforced_source"] == "api:apsaradb-ssl"
    assert {f["id"] for f in off["findings"]} >= {"tls.unavailable", "transport.not_enforced"}
    assert off["grade"] == "F"


def test_a_failed_parameter_lookup_is_the_only_unknown_and_says_why(account):
    sync_account(account)
    unread = _report()["rm-unread"]
    assert unread["transport_enforced"] is None
    assert unread["unknown"]["transport_enforced"].startswith(
        "parameters: DescribeParameters: HTTP 403 Forbidden.RAM"
    )
    assert unread["grade"] not in ("A+", "A")


def test_pages_show_enabled_and_forced_as_two_facts(account, admin_client):
    sync_account(account)
    listing = admin_client.get(reverse("dashboard:instances")).content.decode()
    assert "SSL on, forced off" in listing and "SSL off, forced off" in listing
    enabled = DBInstance.objects.get(identifier="rm-enabled")
    page = admin_client.get(reverse("dashboard:instance", args=[enabled.pk])).content.decode()
    assert re.search(r"<dt>SSL enabled \(ApsaraDB\)</dt><dd>yes</dd>", page)
    assert re.search(r"<dt>SSL enforced \(ApsaraDB\)</dt><dd>no</dd>", page)
