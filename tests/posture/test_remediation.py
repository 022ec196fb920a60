"""Remediation texts for the cases the rule tests do not already spell out."""

from __future__ import annotations

from checker.evidence import ACCEPTED, Verdict
from tests.posture.builders import (
    aliyun_mysql,
    aws_mysql,
    checked,
    clean_evidence,
    outcome_of,
    without_readiness,
)
from tests.posture.builders import param as p


def test_apsaradb_parameter_change_uses_modify_parameter_and_restarts_for_static():
    facts = aliyun_mysql(
        ssl_forced=True,
        parameters=(p("tls_version", "TLSv1,TLSv1.1,TLSv1.2", source="api:apsaradb-parameters"),),
    )
    lines = outcome_of(facts, "protocol.legacy_tls").remediation.splitlines()
    assert lines[0] == (
        "aliyun rds ModifyParameter --region cn-hangzhou --DBInstanceId rm-bp1orders "
        '--Parameters \'{"tls_version":"TLSv1.2,TLSv1.3"}\' --Forcerestart true'
    )
    assert lines[1] == (
        "Console: ApsaraDB RDS console → Instances (cn-hangzhou) → rm-bp1orders → Parameters → "
        "Modifiable Parameters → tls_version = TLSv1.2,TLSv1.3 (the instance restarts)"
    )


def test_aurora_cluster_static_change_reboots_every_member():
    cluster = aws_mysql(
        kind="cluster",
        identifier="aurora",
        engine="aurora-mysql",
        engine_version="8.0.mysql_aurora.3.05.2",
        parameter_group="aurora-tls",
        member_identifiers=("aurora-1", "aurora-2"),
        parameters=(p("tls_version", "TLSv1.1,TLSv1.2", source="api:cluster-parameter-group"),),
    )
    lines = without_readiness(outcome_of(cluster, "protocol.legacy_tls").remediation).splitlines()
    assert lines[0].startswith(
        "aws rds modify-db-cluster-parameter-group --db-cluster-parameter-group-name aurora-tls"
    )
    assert lines[-2:] == [
        "aws rds reboot-db-instance --db-instance-identifier aurora-1 --region us-east-1",
        "aws rds reboot-db-instance --db-instance-identifier aurora-2 --region us-east-1",
    ]


def test_proxy_protocol_findings_point_at_clients_not_parameters():
    evidence = clean_evidence()
    evidence.probe.protocols["TLSv1.0"] = Verdict(ACCEPTED, suite="ECDHE-RSA-AES128-SHA")
    proxy = aws_mysql(kind="proxy", identifier="orders-proxy", parameters=())
    found = outcome_of(checked(proxy, evidence), "protocol.legacy_tls")
    assert found.remediation.startswith("RDS Proxy negotiates TLS")
    assert "--tls-version=TLSv1.2,TLSv1.3" in found.remediation


def test_pending_reboot_on_apsaradb_restarts_the_instance():
    facts = aliyun_mysql(
        parameters=(p("tls_version", "TLSv1.2", apply_status="pending-reboot", source="x"),)
    )
    assert outcome_of(facts, "config.pending_reboot").remediation.splitlines()[0] == (
        "aliyun rds RestartDBInstance --region cn-hangzhou --DBInstanceId rm-bp1orders"
    )
