"""`python -m fleet.moto_server`: the extended moto over HTTP, seeded over HTTP, synced from."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError
from django.core.management import call_command

from fleet.moto_server import reset, seed, seed_random
from inventory.facts import SourceError
from inventory.models import DBInstance
from inventory.sources.aws import AwsSource

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def server_url():
    process = subprocess.Popen(
        [sys.executable, "-m", "fleet.moto_server", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        process.terminate()
        assert process.wait(timeout=60) == 0


@pytest.fixture
def server(server_url, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    reset(server_url)
    return server_url


def _source(url: str) -> AwsSource:
    return AwsSource(
        SimpleNamespace(name="demo", regions=["eu-west-1"], role_arn="", endpoint_url=url)
    )


def test_seeded_world_is_read_through_the_endpoint_url(server):
    rds = boto3.client("rds", region_name="eu-west-1", endpoint_url=server)
    arn = rds.create_db_instance(
        DBInstanceIdentifier="shop",
        DBInstanceClass="db.t3.micro",
        Engine="mariadb",
        EngineVersion="11.4.5",
    )["DBInstance"]["DBInstanceArn"]
    seed(
        server,
        "set_certificates",
        account_id=ACCOUNT,
        region="eu-west-1",
        certificates=[
            {
                "CertificateIdentifier": "rds-ca-rsa2048-g1",
                "ValidFrom": "2021-05-25T23:34:57Z",
                "ValidTill": "2061-05-24T23:34:57Z",
                "CustomerOverride": True,
                "CustomerOverrideValidTill": "2061-05-24T23:34:57Z",
            }
        ],
        default_for_new_launches="rds-ca-rsa2048-g1",
    )
    seed(
        server,
        "set_server_certificate_expiry",
        account_id=ACCOUNT,
        region="eu-west-1",
        instance_id="shop",
        valid_till="2026-12-01T00:00:00Z",
    )
    seed(
        server,
        "add_pending_maintenance_action",
        account_id=ACCOUNT,
        region="eu-west-1",
        resource_arn=arn,
        current_apply_date="2026-11-30T04:00:00Z",
        opt_in_status="next-maintenance",
    )

    inventory = _source(server).fetch_region("eu-west-1")

    (ca,) = inventory.cas
    assert ca.customer_override and ca.default_for_new_launches
    (shop,) = inventory.instances
    assert shop.server_cert_not_after == datetime(2026, 12, 1, tzinfo=UTC)
    assert shop.pending_actions[0].current_apply_date == datetime(2026, 11, 30, 4, tzinfo=UTC)
    assert {p.name: p.raw_value for p in shop.parameters}["require_secure_transport"] == "0"
    assert inventory.api_calls == 7


def test_a_slow_answer_times_out_the_region(server, settings):
    settings.TLSPOSTURE = {
        **settings.TLSPOSTURE,
        "CLOUD_API_ATTEMPTS": 1,
        "CLOUD_API_READ_TIMEOUT": 0.3,
    }
    seed(
        server,
        "inject_fault",
        account_id=ACCOUNT,
        region="eu-west-1",
        action="DescribeDBInstances",
        delay=1.0,
    )

    with pytest.raises(SourceError) as failed:
        _source(server).fetch_region("eu-west-1")

    assert str(failed.value) == f'ReadTimeoutError: Read timeout on endpoint URL: "{server}/"'


def test_unknown_seeders_are_refused(server):
    with pytest.raises(RuntimeError, match="HTTP 404"):
        seed(server, "drop_everything")


@pytest.mark.django_db
def test_an_imported_account_assumes_its_role_through_the_endpoint_url(server, tmp_path):
    role = "arn:aws:iam::222222222222:role/TlsPostureAudit"
    keys = boto3.client("sts", region_name="us-east-1", endpoint_url=server).assume_role(
        RoleArn=role, RoleSessionName="setup"
    )["Credentials"]
    boto3.client(
        "rds",
        region_name="eu-west-1",
        endpoint_url=server,
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    ).create_db_instance(
        DBInstanceIdentifier="audit-db", DBInstanceClass="db.t3.micro", Engine="mysql"
    )
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f'[[account]]\nname = "audit"\nprovider = "aws"\nregions = ["eu-west-1"]\n'
        f'role_arn = "{role}"\nendpoint_url = "{server}"\n'
    )
    call_command("import_accounts", str(accounts), stdout=io.StringIO())

    out = io.StringIO()
    call_command("sync_inventory", stdout=out)

    assert "audit: ok, 1/1 regions, 1 endpoints (1 new" in out.getvalue()
    assert DBInstance.objects.get().resource_id == (
        "arn:aws:rds:eu-west-1:222222222222:db:audit-db"
    )


def test_a_seeded_generator_builds_the_same_endpoint_names_again(server):
    def cluster_endpoint(pause: float = 0.0) -> str:
        reset(server)
        seed_random(server, 1129)
        time.sleep(pause)
        rds = boto3.client("rds", region_name="eu-west-1", endpoint_url=server)
        return rds.create_db_cluster(
            DBClusterIdentifier="ledger",
            Engine="aurora-mysql",
            MasterUsername="admin",
            MasterUserPassword="not-a-secret-1",
        )["DBCluster"]["Endpoint"]

    first = cluster_endpoint()
    assert first.startswith("ledger.cluster-") and first == cluster_endpoint()

    # A slow answer whose client gave up still draws from the generator when it goes out (at
    # 0.5 s); a reset waits for it, so it cannot land in the pause between seed and call.
    seed(server, "inject_fault", account_id=ACCOUNT, region="eu-west-1", delay=0.5, times=1)
    impatient = boto3.client(
        "rds",
        region_name="eu-west-1",
        endpoint_url=server,
        config=Config(read_timeout=0.1, retries={"max_attempts": 0}),
    )
    with pytest.raises(ReadTimeoutError):
        impatient.describe_db_instances()
    assert cluster_endpoint(pause=0.8) == first


def test_a_slow_optional_lookup_times_out_into_a_warning(server, settings):
    settings.TLSPOSTURE = {
        **settings.TLSPOSTURE,
        "CLOUD_API_ATTEMPTS": 1,
        "CLOUD_API_READ_TIMEOUT": 0.3,
    }
    boto3.client("rds", region_name="eu-west-1", endpoint_url=server).create_db_instance(
        DBInstanceIdentifier="shop", DBInstanceClass="db.t3.micro", Engine="mysql"
    )
    seed(
        server,
        "inject_fault",
        account_id=ACCOUNT,
        region="eu-west-1",
        action="DescribePendingMaintenanceActions",
        delay=1.0,
    )

    inventory = _source(server).fetch_region("eu-west-1")

    (shop,) = inventory.instances
    reason = dict(shop.lookup_errors)["pending_actions"]
    assert reason.startswith("DescribePendingMaintenanceActions failed: ReadTimeoutError")
    assert any(w.startswith("DescribePendingMaintenanceActions failed") for w in inventory.warnings)
