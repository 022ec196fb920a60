"""`manage.py sync_inventory` over AWS accounts imported from TOML, against moto."""

from __future__ import annotations

import io
import socket
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from fleet import moto_rds
from inventory.models import CloudAccount, DBInstance, PendingAction, SyncRegion, SyncRun
from tests.inventory.aws_world import AUDIT_ROLE, DEFAULT_ACCOUNT, SECOND_ACCOUNT, AwsWorld

pytestmark = [pytest.mark.django_db, pytest.mark.long(seconds=40)]

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
ACCOUNTS = f"""
[[account]]
name = "prod-aws"
provider = "aws"
regions = {REGIONS!r}

[[account]]
name = "audit-aws"
provider = "aws"
regions = ["eu-west-1"]
role_arn = "{AUDIT_ROLE}"
"""


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _import(tmp_path, text: str = ACCOUNTS) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(text)
    call_command("import_accounts", str(path), stdout=io.StringIO())


def _sync(*args: str, stdout=None) -> str:
    out = stdout or io.StringIO()
    call_command("sync_inventory", *args, stdout=out)
    return out.getvalue()


def _row(identifier: str) -> DBInstance:
    return DBInstance.objects.get(identifier=identifier)


def test_two_accounts_three_regions_and_a_second_run_changes_nothing(aws, tmp_path):
    for region in REGIONS:
        aws.instance(f"orders-{region}", region=region)
    aws.instance("payments", engine="mariadb", version="11.8.2", region="eu-west-1")
    AwsWorld.assumed(AUDIT_ROLE).instance("audit-db", region="eu-west-1")
    _import(tmp_path)

    first = _sync()

    assert "prod-aws: ok, 3/3 regions, 4 endpoints (4 new, 0 changed, 0 gone)" in first
    assert "audit-aws: ok, 1/1 regions, 1 endpoints (1 new" in first
    assert "prod-aws/eu-west-1: 2 endpoints" in first  # plain progress lines off a terminal
    audit = _row("audit-db")
    assert audit.account.name == "audit-aws"
    assert audit.resource_id == f"arn:aws:rds:eu-west-1:{SECOND_ACCOUNT}:db:audit-db"
    assert _row("orders-us-east-1").resource_id.startswith(
        f"arn:aws:rds:us-east-1:{DEFAULT_ACCOUNT}"
    )
    assert set(
        SyncRegion.objects.filter(run__account__name="prod-aws").values_list("region", "status")
    ) == {(r, "ok") for r in REGIONS}
    # Normalised with the raw value kept; MariaDB 11.8 enforces by default.
    enforced = _row("payments").tls_parameters.get(name="require_secure_transport")
    assert (enforced.raw_value, enforced.normalised_value, enforced.source) == (
        "1",
        True,
        "api:engine-default",
    )
    snapshot = list(DBInstance.objects.order_by("pk").values())

    second = _sync()

    assert "prod-aws: ok, 3/3 regions, 4 endpoints (0 new, 0 changed, 0 gone)" in second
    assert "audit-aws: ok, 1/1 regions, 1 endpoints (0 new, 0 changed, 0 gone)" in second
    after = list(DBInstance.objects.order_by("pk").values())
    for row in after:
        row.pop("last_seen")
    for row in snapshot:
        row.pop("last_seen")
    assert after == snapshot
    assert SyncRun.objects.count() == 4


def test_sync_one_account_and_one_region(aws, tmp_path):
    for region in REGIONS:
        aws.instance(f"orders-{region}", region=region)
    _import(tmp_path)

    out = _sync("--account", "prod-aws", "--region", "eu-west-1")

    assert "prod-aws: ok, 1/1 regions, 1 endpoints" in out and "audit-aws" not in out
    assert list(DBInstance.objects.values_list("identifier", flat=True)) == ["orders-eu-west-1"]
    with pytest.raises(CommandError, match="no such account: nope"):
        _sync("--account", "nope")


def test_access_denied_in_one_region_keeps_its_data_while_others_sync(aws, tmp_path):
    _import(tmp_path)
    aws.instance("orders", region="us-east-1")
    aws.instance("ledger", region="eu-west-1")
    _sync("--account", "prod-aws")
    aws.rds("us-east-1").delete_db_instance(DBInstanceIdentifier="orders")
    aws.rds("eu-west-1").delete_db_instance(DBInstanceIdentifier="ledger")
    aws.instance("billing", region="us-east-1")
    moto_rds.inject_fault(
        DEFAULT_ACCOUNT,
        "eu-west-1",
        "DescribeDBInstances",
        code="AccessDenied",
        message="User: arn:aws:iam::123456789012:user/audit is not authorized to perform: "
        "rds:DescribeDBInstances",
        status=403,
    )

    with pytest.raises(CommandError) as failed:
        _sync("--account", "prod-aws")

    assert "prod-aws/eu-west-1: AccessDenied: User: arn:aws:iam::123456789012:user/audit" in str(
        failed.value
    )
    run = SyncRun.objects.latest()
    assert run.status == SyncRun.Status.PARTIAL
    eu = run.regions.get(region="eu-west-1")
    assert eu.status == SyncRegion.Status.FAILED and "rds:DescribeDBInstances" in eu.error
    assert _row("ledger").gone_at is None  # the failed region keeps what it had
    assert _row("orders").gone_at is not None  # the complete listing of us-east-1 lost it
    assert _row("billing").gone_at is None


def test_throttling_then_success_is_retried_and_counted(aws, tmp_path, quick_retries):
    _import(tmp_path)
    aws.instance("orders", region="eu-west-1")
    _sync("--account", "prod-aws", "--region", "eu-west-1")
    calm = SyncRun.objects.latest().api_calls
    moto_rds.inject_fault(
        DEFAULT_ACCOUNT, "eu-west-1", "DescribeDBInstances", code="Throttling", times=1
    )

    _sync("--account", "prod-aws", "--region", "eu-west-1")

    run = SyncRun.objects.latest()
    assert run.status == SyncRun.Status.OK and run.instances_seen == 1
    assert run.api_calls == calm + 1  # the retried request counts


def test_throttling_that_outlasts_retries_fails_only_that_region(aws, tmp_path, quick_retries):
    _import(tmp_path)
    aws.instance("orders", region="us-east-1")
    moto_rds.inject_fault(
        DEFAULT_ACCOUNT, "ap-southeast-2", "*", code="Throttling", message="Rate exceeded"
    )

    with pytest.raises(CommandError) as failed:
        _sync("--account", "prod-aws")

    assert (
        "prod-aws/ap-southeast-2: Throttling: Rate exceeded (DescribeDBInstances, gave up "
        "after 2 attempts)"
    ) in str(failed.value)
    assert _row("orders").gone_at is None
    statuses = dict(SyncRun.objects.latest().regions.values_list("region", "status"))
    assert statuses == {"us-east-1": "ok", "eu-west-1": "ok", "ap-southeast-2": "failed"}


def test_unknown_ca_pending_rotation_and_pending_reboot_are_stored(aws, tmp_path):
    _import(tmp_path)
    aws.group("orders-tls", "mysql8.0", require_secure_transport="ON")
    aws.instance("orders", group="orders-tls")
    legacy_arn = aws.instance("legacy", CACertificateIdentifier="rds-ca-2019")
    aws.set_parameters("orders-tls", tls_version="TLSv1.2,TLSv1.3")
    due = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
    moto_rds.add_pending_maintenance_action(
        DEFAULT_ACCOUNT, "us-east-1", legacy_arn, forced_apply_date=due
    )

    _sync("--account", "prod-aws", "--region", "us-east-1")

    legacy = _row("legacy")
    # Not found is unknown with its reason: never "expired", never "fine".
    assert (legacy.ca_identifier, legacy.ca) == ("rds-ca-2019", None)
    assert legacy.ca_lookup_error == "rds-ca-2019 is not among the CAs the region lists"
    assert legacy.server_cert_not_after == datetime(2024, 8, 22, 17, 8, 50, tzinfo=UTC)
    assert PendingAction.objects.get(instance=legacy).due == due
    orders = _row("orders")
    assert orders.ca.identifier == "rds-ca-rsa2048-g1"
    assert orders.parameter_apply_status == "pending-reboot"
    params = {p.name: p for p in orders.tls_parameters.all()}
    assert (
        params["require_secure_transport"].raw_value,
        params["require_secure_transport"].normalised_value,
    ) == ("ON", True)
    assert params["tls_version"].normalised_value == ["TLSv1.2", "TLSv1.3"]
    assert params["tls_version"].apply_status == "pending-reboot"
    assert params["require_secure_transport"].set_by == "user"


def test_progress_on_a_terminal(aws, tmp_path):
    _import(tmp_path)
    aws.instance("orders", region="us-east-1")
    moto_rds.inject_fault(DEFAULT_ACCOUNT, "eu-west-1", "*", code="AccessDenied", status=403)
    terminal = _Terminal()

    with pytest.raises(CommandError):
        _sync("--account", "prod-aws", stdout=terminal)

    screen = terminal.getvalue()
    assert "\r\x1b[Kaccounts 0/1 · regions 1/3 · 1 endpoints · 0 failed" in screen
    assert "prod-aws/eu-west-1 failed: AccessDenied" in screen
    assert "accounts 1/1 · regions 3/3 · 1 endpoints · 1 failed" in screen


def test_an_unreachable_endpoint_fails_the_account_with_a_reason(aws_credentials, quick_retries):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    CloudAccount.objects.create(
        name="offline",
        provider="aws",
        regions=["us-east-1"],
        endpoint_url=f"http://127.0.0.1:{port}",
    )

    with pytest.raises(CommandError) as failed:
        _sync()

    assert (
        f'offline/us-east-1: EndpointConnectionError: Could not connect to the endpoint URL: "http://127.0.0.1:{port}/"'
        in str(failed.value)
    )
    assert SyncRun.objects.get().status == SyncRun.Status.FAILED


def test_a_role_that_cannot_be_assumed_fails_its_account_once(aws, tmp_path):
    _import(tmp_path)
    moto_rds_denied = CloudAccount.objects.get(name="audit-aws")
    moto_rds_denied.role_arn = "not-an-arn"
    moto_rds_denied.save()

    with pytest.raises(CommandError) as failed:
        _sync("--account", "audit-aws")

    assert "audit-aws/eu-west-1: role not-an-arn could not be assumed" in str(failed.value)


def test_optional_lookups_that_fail_keep_the_earlier_rows(aws, tmp_path, quick_retries):
    _import(tmp_path)
    aws.cluster_group("ledger-tls", "aurora-mysql8.0", require_secure_transport="ON")
    aws.cluster("ledger", members=2, group="ledger-tls")
    orders_arn = aws.instance("orders")
    aws.proxy("orders-proxy", require_tls=True, instances=("orders",))
    moto_rds.add_pending_maintenance_action(DEFAULT_ACCOUNT, "us-east-1", orders_arn)
    _sync("--account", "prod-aws", "--region", "us-east-1")
    before = {row.identifier: row for row in DBInstance.objects.all()}
    # A proxy answering HTML for three listings, and a denied per-proxy lookup.
    for action in ("DescribeDBClusters", "DescribeDBProxies", "DescribePendingMaintenanceActions"):
        moto_rds.inject_fault(
            DEFAULT_ACCOUNT, "us-east-1", action, code="Bad Gateway", status=502, html=True
        )

    out = _sync("--account", "prod-aws", "--region", "us-east-1")

    # The three instances were listed; the cluster and the proxy could not be.
    assert "prod-aws: ok, 1/1 regions, 3 endpoints (0 new" in out and ", 0 gone)" in out
    region = SyncRun.objects.latest().regions.get()
    assert region.status == "ok"
    assert [w.split(":")[0] for w in region.warnings] == [
        "DescribeDBClusters failed",
        "DescribeDBProxies failed",
        "DescribePendingMaintenanceActions failed",
    ]
    assert "an HTML page (502 Bad Gateway)" in region.warnings[0]
    ledger, proxy = _row("ledger"), _row("orders-proxy")
    assert ledger.gone_at is None and proxy.gone_at is None  # unlisted, not gone
    assert ledger.last_seen == before["ledger"].last_seen  # nor confirmed
    for member in ("ledger-1", "ledger-2"):
        row = _row(member)
        assert (row.parent_id, row.role, row.parameter_group) == (
            ledger.pk,
            before[member].role,
            "ledger-tls",
        )
        assert row.lookup_errors["cluster"].startswith("DescribeDBClusters failed")
        assert row.tls_parameters.get(name="require_secure_transport").raw_value == "ON"
    assert list(proxy.proxy_targets.values_list("identifier", flat=True)) == ["orders"]
    orders = _row("orders")
    assert orders.pending_actions.get().action == "ca-certificate-rotation"  # kept
    assert orders.lookup_errors["pending_actions"].startswith(
        "DescribePendingMaintenanceActions failed: unparseable answer"
    )


def test_a_denied_proxy_lookup_keeps_its_targets_and_tags(aws, tmp_path):
    _import(tmp_path)
    aws.instance("orders")
    aws.proxy("orders-proxy", require_tls=True, instances=("orders",))
    _sync("--account", "prod-aws", "--region", "us-east-1")
    for action in ("DescribeDBProxyTargets", "ListTagsForResource"):
        moto_rds.inject_fault(DEFAULT_ACCOUNT, "us-east-1", action, code="AccessDenied", status=403)

    _sync("--account", "prod-aws", "--region", "us-east-1")

    proxy = _row("orders-proxy")
    assert list(proxy.proxy_targets.values_list("identifier", flat=True)) == ["orders"]
    assert proxy.tags == {"team": "platform"}
    assert sorted(proxy.lookup_errors) == ["tags", "targets"]
    assert (
        proxy.lookup_errors["targets"]
        == "DescribeDBProxyTargets failed: AccessDenied: AccessDenied (DescribeDBProxyTargets)"
    )
    warnings = SyncRun.objects.latest().regions.get().warnings
    assert any(
        w.startswith("targets of orders-proxy: DescribeDBProxyTargets failed") for w in warnings
    )


def test_throttling_past_the_retries_on_an_optional_lookup_is_a_warning(
    aws, tmp_path, quick_retries
):
    _import(tmp_path)
    aws.cluster("ledger", members=1)
    moto_rds.inject_fault(
        DEFAULT_ACCOUNT, "us-east-1", "DescribeDBClusters", code="Throttling", message="Slow down"
    )

    out = _sync("--account", "prod-aws", "--region", "us-east-1")

    assert "prod-aws: ok, 1/1 regions, 1 endpoints (1 new" in out
    (warning,) = [w for w in SyncRun.objects.latest().regions.get().warnings if "Clusters" in w]
    assert warning.startswith(
        "DescribeDBClusters failed: Throttling: Slow down (DescribeDBClusters, gave up after "
        "2 attempts)"
    )
    member = _row("ledger-1")
    assert member.lookup_errors["parameters"].startswith("cluster ledger: DescribeDBClusters")
