"""MySQL 8 end to end on the persona: the probe and the VERIFY_IDENTITY session read each
scenario of fleet/mysql8/scenarios.py, and the posture rules give its catalogue finding with
evidence and the MySQL statement that fixes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checker.deadline import Deadline
from checker.evidence import SESSION_OK, SESSION_TLS_FAILED, Evidence
from checker.probe import ProbeLimits, probe_endpoint
from checker.secret import Login, Secret
from checker.session import SessionLimits, read_session, try_plaintext_login
from fleet.scenarios import endpoint_name
from posture.rules import evaluate
from tests.posture.builders import aws_mysql, checked

pytestmark = pytest.mark.fleet
LIMITS = SessionLimits(connect_timeout=2, read_timeout=2, write_timeout=2)
PERSONA_FINDINGS = (
    "replication.unencrypted",
    "replication.unverified",
    "replication.legacy_tls",
    "group_replication.recovery_unencrypted",
    "group_replication.unencrypted",
    "cert.self_signed",
)


def _check(mysql8_fleet, scenario) -> tuple[Evidence, object]:
    """Probe, session and evaluation at real now (the persona's certificates are minted now)."""
    server = mysql8_fleet[scenario]
    name = endpoint_name(scenario)
    address = (server.host, server.port)
    cafile = str(mysql8_fleet.bundle_path)
    evidence = Evidence(dialed=f"{name}:3306", verified_name=name, trust_bundle="fleet")
    evidence.probe = probe_endpoint(
        address,
        name,
        cafile=cafile,
        limits=ProbeLimits(connect_timeout=2, read_timeout=2),
        deadline=Deadline(20),
    )
    login = Login(server.checker.username, Secret(server.checker.password))
    evidence.session = read_session(
        address, name, cafile=cafile, login=login, limits=LIMITS, deadline=Deadline(10)
    )
    now = datetime.now(UTC)
    facts = aws_mysql(
        engine_version=server.spec.version,
        endpoint_host=name,
        synced_at=now - timedelta(hours=1),
        server_cert_not_after=now + timedelta(days=300),
    )
    return evidence, evaluate(checked(facts, evidence, at=now), now)


def _finding(evaluation, finding_id):
    return next((f for f in evaluation.findings if f.id == finding_id), None)


def _raised(evaluation) -> set[str]:
    return {f.id for f in evaluation.findings} & set(PERSONA_FINDINGS)


def test_enforced_80_reads_as_mysql_and_raises_none_of_these(mysql8_fleet):
    evidence, evaluation = _check(mysql8_fleet, "mysql80_enforced")
    session = evidence.session
    assert (session.outcome, session.reason) == (SESSION_OK, "")
    assert evidence.probe.flavour == "mysql" and session.variables["version"] == "8.0.39"
    assert session.variables["require_secure_transport"] == "ON"
    assert session.variables["have_ssl"] == "YES"
    assert session.status["Current_tls_version"] == "TLSv1.2,TLSv1.3"
    assert session.status["Ssl_server_not_after"].endswith(" GMT")
    assert session.accounts.state == "ok"
    assert {(a.user, a.ssl_type) for a in session.accounts.remote} >= {("tlsposture", "ANY")}
    assert (session.replication.state, session.replication.channels) == ("ok", [])
    assert session.group_replication == {}
    assert "group_replication_ssl_mode" in session.not_applicable
    assert _raised(evaluation) == set()
    assert "transport.not_enforced" not in {f.id for f in evaluation.findings}


def test_unverified_channel_on_legacy_tls(mysql8_fleet):
    evidence, evaluation = _check(mysql8_fleet, "mysql80_replica_unverified")
    (channel,) = evidence.session.replication.channels
    assert (channel.name, channel.ssl_allowed, channel.ssl_verify_server_cert) == (
        "orders",
        "YES",
        False,
    )
    assert channel.tls_version == "TLSv1.1,TLSv1.2" and channel.tls_ciphersuites is None
    assert _raised(evaluation) == {"replication.unverified", "replication.legacy_tls"}
    for finding_id in ("replication.unverified", "replication.legacy_tls"):
        finding = _finding(evaluation, finding_id)
        (shown,) = finding.evidence["channels"]
        assert shown["name"] == "orders" and shown["tls_version"] == "TLSv1.1,TLSv1.2"
        assert finding.evidence["source"] == "live-variable"
        assert (
            "STOP REPLICA FOR CHANNEL 'orders'; CHANGE REPLICATION SOURCE TO SOURCE_SSL=1, "
            "SOURCE_SSL_VERIFY_SERVER_CERT=1, SOURCE_SSL_CA='<path to the source CA certificate>', "
            "SOURCE_TLS_VERSION='TLSv1.2,TLSv1.3' FOR CHANNEL 'orders'; "
            "START REPLICA FOR CHANNEL 'orders';"
        ) in finding.remediation


def test_channel_restricted_to_ccm_8_on_tls13_is_read_as_such(mysql8_fleet):
    evidence, evaluation = _check(mysql8_fleet, "mysql80_replica_ccm8")
    (channel,) = evidence.session.replication.channels
    assert (channel.tls_version, channel.tls_ciphersuites) == (
        "TLSv1.3",
        "TLS_AES_128_CCM_8_SHA256",
    )
    assert channel.ssl_verify_server_cert is True
    assert _raised(evaluation) == set()


def test_before_8023_the_fix_is_change_master_to(mysql8_fleet):
    evidence, evaluation = _check(mysql8_fleet, "mysql80_old_replica_plain")
    assert evidence.session.variables["version"] == "8.0.21"
    assert _raised(evaluation) == {"replication.unencrypted"}
    finding = _finding(evaluation, "replication.unencrypted")
    assert finding.evidence["channels"][0]["ssl_allowed"] == "NO"
    assert finding.remediation.startswith(
        "STOP SLAVE; CHANGE MASTER TO MASTER_SSL=1, MASTER_SSL_VERIFY_SERVER_CERT=1"
    )
    assert "CHANGE REPLICATION SOURCE" not in finding.remediation


@pytest.mark.parametrize(
    ("scenario", "problem"),
    [
        ("mysql80_gr_recovery_plain", "group_replication_recovery_use_ssl is OFF"),
        (
            "mysql80_gr_recovery_tls11",
            "group_replication_recovery_tls_version allows TLSv1.1",
        ),
    ],
)
def test_group_replication_recovery(mysql8_fleet, scenario, problem):
    evidence, evaluation = _check(mysql8_fleet, scenario)
    assert evidence.session.group_replication["group_replication_ssl_mode"] == "REQUIRED"
    assert _raised(evaluation) == {"group_replication.recovery_unencrypted"}
    finding = _finding(evaluation, "group_replication.recovery_unencrypted")
    assert finding.evidence["problems"] == [problem]
    assert "SET PERSIST group_replication_recovery_use_ssl=ON" in finding.remediation
    assert "group_replication_recovery_tls_version='TLSv1.2,TLSv1.3'" in finding.remediation


def test_group_replication_ssl_mode_disabled_vs_required(mysql8_fleet):
    evidence, evaluation = _check(mysql8_fleet, "mysql80_gr_ssl_disabled")
    assert evidence.session.group_replication["group_replication_ssl_mode"] == "DISABLED"
    assert _raised(evaluation) == {"group_replication.unencrypted"}
    finding = _finding(evaluation, "group_replication.unencrypted")
    assert finding.evidence["problems"] == ["group_replication_ssl_mode is DISABLED"]
    assert "SET PERSIST group_replication_ssl_mode='REQUIRED'" in finding.remediation
    # REQUIRED (with recovery over TLS 1.2/1.3, verified) on 8.4: nothing to raise.
    _, required = _check(mysql8_fleet, "mysql84_enforced")
    assert _raised(required) == set()


def test_84_without_its_removed_variables(mysql8_fleet):
    evidence, evaluation = _check(mysql8_fleet, "mysql84_enforced")
    session = evidence.session
    assert (session.outcome, session.reason) == (SESSION_OK, "")
    assert session.variables["version"] == "8.4.3"
    assert {"have_ssl", "have_openssl"} <= set(session.not_applicable)
    assert "have_ssl" not in session.variables
    assert session.group_replication["group_replication_recovery_use_ssl"] == "ON"
    # The missing variables are "not in this version", never a reason to doubt the grade.
    assert "evidence.incomplete" not in {f.id for f in evaluation.findings}
    assert evaluation.grade in ("A", "A+")


def test_auto_generated_certificate(mysql8_fleet):
    evidence, evaluation = _check(mysql8_fleet, "mysql80_auto_cert")
    leaf = evidence.probe.chain[0]
    assert leaf.common_name == "MySQL_Server_8.0.39_Auto_Generated_Server_Certificate"
    assert leaf.auto_generated == "mysql-auto" and leaf.sans == []
    # No credentials over a chain that does not verify.
    assert evidence.session.outcome != SESSION_OK
    assert "cert.self_signed" in _raised(evaluation)
    assert _finding(evaluation, "cert.self_signed").remediation


def test_server_on_ccm_8_only_refuses_an_ordinary_session(mysql8_fleet):
    evidence, _ = _check(mysql8_fleet, "mysql80_tls13_ccm8")
    assert evidence.probe.protocols["TLSv1.3"].suite == "TLS_AES_128_CCM_8_SHA256"
    assert evidence.session.outcome == SESSION_TLS_FAILED


def test_plaintext_canary_gets_3159(mysql8_fleet):
    server = mysql8_fleet["mysql80_enforced"]
    result = try_plaintext_login(
        (server.host, server.port),
        login=Login(server.canary.username, Secret(server.canary.password)),
        limits=LIMITS,
        deadline=Deadline(10),
    )
    assert (result.accepted, result.error_code) == (False, 3159)


def test_before_8019_the_channel_is_read_without_its_suites(mysql8_fleet):
    evidence, evaluation = _check(mysql8_fleet, "mysql80_old_replica_tls")
    session = evidence.session
    assert (session.outcome, session.reason) == (SESSION_OK, "")
    (channel,) = session.replication.channels
    assert (channel.name, channel.tls_version, channel.tls_ciphersuites) == ("", "", None)
    # An empty SOURCE_TLS_VERSION before 8.0.28 is the client default, TLS 1.0/1.1 included.
    assert _raised(evaluation) == {"replication.legacy_tls"}
    remediation = _finding(evaluation, "replication.legacy_tls").remediation
    assert remediation.startswith("STOP SLAVE; CHANGE MASTER TO MASTER_SSL=1")
    assert "MASTER_SSL_CA" not in remediation  # the channel names its CA already


def test_without_grants_the_accounts_and_channels_are_unknown(mysql8_fleet):
    evidence, evaluation = _check(mysql8_fleet, "mysql80_checker_without_grants")
    session = evidence.session
    assert session.outcome == SESSION_OK
    assert session.accounts.state == "no-privilege" and "1142" in session.accounts.reason
    assert session.replication.state == "no-privilege" and "1142" in session.replication.reason
    assert _raised(evaluation) == set()
    assert "replication.unencrypted" in evaluation.unknown


def test_the_clients_of_a_mysql8_server_are_named_with_their_tls(mysql8_fleet):
    """MySQL 8's performance_schema.threads and status_by_thread (docs/reference/mysql-tls.md
    "Client connections and their TLS"): the persona's two other clients, one without TLS."""
    evidence, _ = _check(mysql8_fleet, "mysql80_enforced")
    clients = evidence.session.clients
    assert (clients.state, clients.performance_schema) == ("ok", "ON")
    named = {(c.user, c.host, c.connection_type, c.tls_version) for c in clients.connections}
    assert named == {
        ("app", "10.0.1.15", "SSL/TLS", "TLSv1.3"),
        ("reporting", "10.0.2.40", "TCP/IP", None),
    }
    assert clients.kept_apart["checker"] == 1 and clients.kept_apart["system"] >= 1
    assert {"Connections", "Ssl_accepts"} <= set(clients.counters)


def test_a_checker_without_the_grant_is_told_which_to_add(mysql8_fleet):
    evidence, _ = _check(mysql8_fleet, "mysql80_checker_without_grants")
    clients = evidence.session.clients
    assert clients.state == "no-privilege"
    assert clients.reason.startswith(
        "unknown: grant SELECT on performance_schema.threads and status_by_thread (GRANT SELECT "
        "ON performance_schema.threads TO 'tlsposture'@'%'"
    )
