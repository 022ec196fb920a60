"""The AWS source against moto through the real boto3 client: what each case turns into."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from common.engines import parameter_group_family as family_of
from fleet import moto_rds
from inventory.facts import SourceError
from inventory.sources.aws import AwsSource
from inventory.sources.aws_parameters import documented_default
from tests.inventory.aws_world import AURORA_VERSION, DEFAULT_ACCOUNT

REGION = "us-east-1"


def _account(**kw):
    return SimpleNamespace(
        **{"name": "prod-aws", "regions": [REGION], "role_arn": "", "endpoint_url": "", **kw}
    )


def _fetch(region: str = REGION, **account):
    inventory = AwsSource(_account(**account)).fetch_region(region)
    return inventory, {f.identifier: f for f in inventory.instances}


def _params(fact):
    return {p.name: p for p in fact.parameters}


def test_aurora_cluster_enforces_tls_while_its_instances_groups_say_nothing(aws):
    aws.cluster_group("aurora-tls", "aurora-mysql8.0", require_secure_transport="ON")
    cluster_arn = aws.cluster("orders", members=2, group="aurora-tls")

    _, facts = _fetch()

    cluster = facts["orders"]
    assert (cluster.kind, cluster.resource_id) == ("cluster", cluster_arn)
    assert cluster.endpoint_host.startswith("orders.cluster-")
    assert cluster.reader_endpoint_host.startswith("orders.cluster-ro-")
    assert cluster.parameter_group == "aurora-tls" and cluster.parameter_group_is_default is False
    for ident, role in (("orders-1", "writer"), ("orders-2", "reader")):
        member = facts[ident]
        assert (member.role, member.parent_resource_id) == (role, cluster_arn)
        # The member's own group (default.aurora-mysql8.0) holds no TLS setting; the
        # cluster group's value is what the member runs with.
        assert dict(member.details)["instance_parameter_group"] == "default.aurora-mysql8.0"
        enforced = _params(member)["require_secure_transport"]
        assert (enforced.raw_value, enforced.source, enforced.source_name, enforced.set_by) == (
            "ON",
            "api:cluster-parameter-group",
            "aurora-tls",
            "user",
        )
    # What the cluster group leaves unset comes from the family's cluster engine defaults.
    versions = _params(cluster)["tls_version"]
    assert (versions.raw_value, versions.source, versions.source_name) == (
        "TLSv1.2,TLSv1.3",
        "api:engine-default",
        "aurora-mysql8.0",
    )
    # Clients of the cluster endpoint meet the writer's certificate.
    assert cluster.ca_identifier == facts["orders-1"].ca_identifier == "rds-ca-rsa2048-g1"
    assert dict(cluster.details)["certificate_from"] == "orders-1"


def test_default_mysql80_group_means_the_engine_default_off(aws):
    aws.instance("legacy-app")

    _, facts = _fetch()

    fact = facts["legacy-app"]
    assert fact.parameter_group == "default.mysql8.0" and fact.parameter_group_is_default
    enforced = _params(fact)["require_secure_transport"]
    assert (enforced.raw_value, enforced.source, enforced.source_name, enforced.set_by) == (
        "0",
        "api:engine-default",
        "mysql8.0",
        "engine-default",
    )
    # Nothing states a cipher list: None means the server's built-in default, not "empty".
    assert _params(fact)["ssl_cipher"].raw_value is None


def test_mariadb_118_enforces_by_default(aws):
    aws.instance("catalogue", engine="mariadb", version="11.8.2")
    aws.instance("old-catalogue", engine="mariadb", version="10.11.9")

    _, facts = _fetch()

    assert _params(facts["catalogue"])["require_secure_transport"].raw_value == "1"
    assert _params(facts["old-catalogue"])["require_secure_transport"].raw_value == "0"
    assert "tls_ciphersuites" not in _params(facts["catalogue"])  # no such MariaDB variable


def test_tls_version_change_waits_for_a_reboot(aws):
    aws.group("orders-tls", "mysql8.0", require_secure_transport="1")
    aws.instance("orders", group="orders-tls")
    aws.set_parameters("orders-tls", tls_version="TLSv1.2")

    _, facts = _fetch()
    pending = facts["orders"]
    assert pending.parameter_apply_status == "pending-reboot"
    versions = _params(pending)["tls_version"]
    assert (versions.raw_value, versions.apply_type, versions.apply_status) == (
        "TLSv1.2",
        "static",
        "pending-reboot",
    )

    aws.rds().reboot_db_instance(DBInstanceIdentifier="orders")
    _, facts = _fetch()
    assert facts["orders"].parameter_apply_status == "in-sync"


def test_certificates_pending_rotation_and_pending_ca_change(aws):
    arn = aws.instance("payments")
    aws.instance("ledger")
    rotation_due = datetime(2027, 1, 15, 6, 0, tzinfo=UTC)
    moto_rds.add_pending_maintenance_action(
        DEFAULT_ACCOUNT, REGION, arn, auto_applied_after=rotation_due, forced_apply_date=None
    )
    aws.rds().modify_db_instance(
        DBInstanceIdentifier="ledger", CACertificateIdentifier="rds-ca-ecc384-g1"
    )

    inventory, facts = _fetch()

    (rotation,) = facts["payments"].pending_actions
    assert (rotation.action, rotation.auto_applied_after, rotation.opt_in_status) == (
        "ca-certificate-rotation",
        rotation_due,
        "pending",
    )
    ledger = facts["ledger"]
    assert (ledger.ca_identifier, ledger.pending_ca_identifier) == (
        "rds-ca-rsa2048-g1",
        "rds-ca-ecc384-g1",
    )
    assert [a.action for a in ledger.pending_actions] == ["ca-change"]
    # The server certificate and its CA are different certificates with different dates.
    assert ledger.server_cert_source == "api:certificate-details"
    assert ledger.server_cert_not_after.year < 2061
    by_name = {ca.identifier: ca for ca in inventory.cas}
    assert by_name["rds-ca-rsa2048-g1"].valid_till == datetime(2061, 5, 24, 23, 34, 57, tzinfo=UTC)
    assert by_name["rds-ca-rsa2048-g1"].default_for_new_launches
    assert by_name["rds-ca-ecc384-g1"].key_algorithm == "ECC 384"


def test_proxy_with_its_targets(aws):
    cluster_arn = aws.cluster("orders", members=1)
    aws.proxy("orders-proxy", require_tls=False, clusters=("orders",))
    aws.proxy("reports-proxy", require_tls=True, engine_family="POSTGRESQL")

    _, facts = _fetch()

    assert "reports-proxy" not in facts
    proxy = facts["orders-proxy"]
    assert (proxy.kind, proxy.engine, proxy.proxy_require_tls) == ("proxy", "MYSQL", False)
    assert proxy.endpoint_host.startswith("orders-proxy.") and proxy.endpoint_port == 3306
    assert proxy.proxy_target_resource_ids == (cluster_arn,)
    assert proxy.tags == (("team", "platform"),)


def test_only_mysql_family_engines_are_read(aws):
    aws.instance("reports", engine="postgres", version="16.3")
    aws.instance(
        "shop", engine="mariadb", version="10.11.9", Tags=[{"Key": "env", "Value": "prod"}]
    )

    _, facts = _fetch()

    assert set(facts) == {"shop"}
    assert facts["shop"].tags == (("env", "prod"),)


def test_a_denied_ca_list_leaves_the_region_readable(aws):
    aws.instance("orders")
    moto_rds.inject_fault(
        DEFAULT_ACCOUNT,
        REGION,
        "DescribeCertificates",
        code="AccessDenied",
        message="User: arn:aws:iam::123456789012:user/audit is not authorized to perform: "
        "rds:DescribeCertificates",
        status=403,
    )

    inventory, facts = _fetch()

    assert inventory.cas == () and "orders" in facts
    (warning,) = inventory.warnings
    assert warning.startswith("CA list could not be read: AccessDenied: User: arn:aws:iam::")


def test_a_denied_parameter_group_is_unknown_with_its_reason(aws):
    aws.group("orders-tls", "mysql8.0", require_secure_transport="1")
    aws.instance("orders", group="orders-tls")
    moto_rds.inject_fault(
        DEFAULT_ACCOUNT, REGION, "DescribeDBParameters", code="AccessDenied", status=403
    )

    _, facts = _fetch()

    assert facts["orders"].parameters == ()
    reason = dict(facts["orders"].lookup_errors)["parameters"]
    assert reason == "AccessDenied: AccessDenied (DescribeDBParameters)"


def test_a_denied_instance_listing_fails_the_region_without_secrets(aws):
    moto_rds.inject_fault(
        DEFAULT_ACCOUNT,
        REGION,
        "DescribeDBInstances",
        code="AccessDenied",
        message="User: arn:aws:iam::123456789012:user/audit is not authorized to perform: "
        "rds:DescribeDBInstances",
        status=403,
    )
    with pytest.raises(SourceError) as failed:
        _fetch()
    assert str(failed.value) == (
        "AccessDenied: User: arn:aws:iam::123456789012:user/audit is not authorized to "
        "perform: rds:DescribeDBInstances (DescribeDBInstances)"
    )
    assert "testing" not in str(failed.value)


def test_regions_are_discovered_when_none_are_configured(aws):
    regions = AwsSource(_account(regions=[])).regions()
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= set(regions)


def test_family_and_documented_defaults():
    assert family_of("aurora-mysql", AURORA_VERSION) == "aurora-mysql8.0"
    assert family_of("mariadb", "11.8.2") == "mariadb11.8"
    assert family_of("mysql", "") == ""
    # Only used when neither the group nor the engine defaults state a value.
    assert documented_default("mysql8.4", "require_secure_transport") == "OFF"
    assert documented_default("mariadb11.4", "require_secure_transport") == "OFF"
    assert documented_default("mariadb11.8", "require_secure_transport") == "ON"
    assert documented_default("mariadb10.4", "require_secure_transport") is None
    assert documented_default("mysql5.6", "require_secure_transport") is None
    assert documented_default("mysql8.0", "tls_version") is None
