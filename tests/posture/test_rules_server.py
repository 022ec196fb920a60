"""Replication, Group Replication, pending reboot and drift rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checker.evidence import ReplicationChannel, ReplicationReadout
from posture.outcomes import Unknown
from tests.posture.builders import NOW, aws_mysql, checked, clean_evidence, outcome_of, param


def _replica(*channels, state="ok"):
    evidence = clean_evidence()
    evidence.session.replication = ReplicationReadout(state=state, channels=list(channels))
    return evidence


PLAIN = ReplicationChannel(name="", source_host="10.0.0.5", ssl_allowed="NO")
UNVERIFIED = ReplicationChannel(
    name="orders", ssl_allowed="YES", ssl_verify_server_cert=False, tls_version="TLSv1.2"
)
LEGACY = ReplicationChannel(
    name="legacy", ssl_allowed="YES", ssl_verify_server_cert=True, tls_version="TLSv1,TLSv1.2"
)
GOOD = ReplicationChannel(
    name="good", ssl_allowed="YES", ssl_verify_server_cert=True, tls_version="TLSv1.2,TLSv1.3"
)


def test_unencrypted_channel_mysql_statement():
    found = outcome_of(checked(aws_mysql(), _replica(PLAIN, GOOD)), "replication.unencrypted")
    assert [c["source_host"] for c in found.evidence["channels"]] == ["10.0.0.5"]
    assert found.remediation.splitlines()[0] == (
        "STOP REPLICA; CHANGE REPLICATION SOURCE TO SOURCE_SSL=1, "
        "SOURCE_SSL_VERIFY_SERVER_CERT=1, SOURCE_SSL_CA='<path to the source CA certificate>', "
        "SOURCE_TLS_VERSION='TLSv1.2,TLSv1.3'; START REPLICA;"
    )
    assert "CALL mysql.rds_set_external_source(" in found.remediation


def test_unencrypted_channel_mariadb_statement():
    evidence = _replica(ReplicationChannel(name="orders", ssl_allowed="NO"))
    evidence.probe.server_version = "5.5.5-10.11.9-MariaDB"
    mariadb = aws_mysql(engine="mariadb", engine_version="10.11.9")
    found = outcome_of(checked(mariadb, evidence), "replication.unencrypted")
    assert found.remediation.splitlines()[0] == (
        "STOP SLAVE 'orders'; CHANGE MASTER 'orders' TO MASTER_SSL=1, "
        "MASTER_SSL_VERIFY_SERVER_CERT=1, MASTER_SSL_CA='<path to the source CA certificate>'; "
        "START SLAVE 'orders';"
    )


def test_unverified_and_legacy_channels():
    evidence = _replica(UNVERIFIED, LEGACY, GOOD)
    unverified = outcome_of(checked(aws_mysql(), evidence), "replication.unverified")
    assert [c["name"] for c in unverified.evidence["channels"]] == ["orders"]
    assert "FOR CHANNEL 'orders'" in unverified.remediation
    legacy = outcome_of(checked(aws_mysql(), evidence), "replication.legacy_tls")
    assert [c["name"] for c in legacy.evidence["channels"]] == ["legacy"]
    assert outcome_of(checked(aws_mysql(), evidence), "replication.unencrypted") is None


def test_empty_channel_tls_version_follows_the_client_default():
    channel = ReplicationChannel(name="c", ssl_allowed="YES", ssl_verify_server_cert=True)
    channel.tls_version = ""
    evidence = _replica(channel)
    assert outcome_of(checked(aws_mysql(), evidence), "replication.legacy_tls") is None
    evidence.session.variables["version"] = "8.0.26"
    assert outcome_of(checked(aws_mysql(), evidence), "replication.legacy_tls") is not None


def test_replication_unknowns():
    assert outcome_of(checked(aws_mysql(), _replica(GOOD)), "replication.unverified") is None
    no_privilege = _replica(state="no-privilege")
    assert isinstance(
        outcome_of(checked(aws_mysql(), no_privilege), "replication.unencrypted"), Unknown
    )
    mariadb_channel = ReplicationChannel(name="m", ssl_allowed="YES", ssl_verify_server_cert=True)
    unknown = outcome_of(checked(aws_mysql(), _replica(mariadb_channel)), "replication.legacy_tls")
    assert unknown == Unknown("channel(s) m do not say")
    assert outcome_of(aws_mysql(), "replication.unencrypted") == Unknown("never checked")


@pytest.mark.parametrize(
    ("variables", "raised"),
    [
        ({"group_replication_recovery_use_ssl": "OFF"}, True),
        (
            {
                "group_replication_recovery_use_ssl": "ON",
                "group_replication_recovery_tls_version": "TLSv1.1,TLSv1.2",
            },
            True,
        ),
        (
            {
                "group_replication_recovery_use_ssl": "ON",
                "group_replication_recovery_tls_version": "TLSv1.2,TLSv1.3",
            },
            False,
        ),
        ({}, False),
    ],
)
def test_group_replication_recovery(variables, raised):
    evidence = clean_evidence()
    evidence.session.group_replication = variables
    found = outcome_of(checked(aws_mysql(), evidence), "group_replication.recovery_unencrypted")
    assert (found is not None) is raised
    if raised:
        assert "SET PERSIST group_replication_recovery_use_ssl=ON" in found.remediation


def test_group_replication_unknown_without_session():
    assert isinstance(outcome_of(aws_mysql(), "group_replication.recovery_unencrypted"), Unknown)


# ---- config.pending_reboot ---------------------------------------------------------------


def test_pending_reboot_parameter():
    facts = aws_mysql(
        parameters=(
            param("require_secure_transport", "1"),
            param("tls_version", "TLSv1.2,TLSv1.3", apply_status="pending-reboot"),
        ),
        parameter_apply_status="pending-reboot",
    )
    found = outcome_of(facts, "config.pending_reboot")
    assert found.cap == "B"
    assert found.evidence["parameters"][0]["name"] == "tls_version"
    assert found.remediation == (
        "aws rds reboot-db-instance --db-instance-identifier orders-db --region us-east-1"
    )


def test_pending_reboot_clear_and_unknown():
    assert outcome_of(aws_mysql(), "config.pending_reboot") is None
    unread = aws_mysql(parameters=(), parameter_apply_status="")
    assert isinstance(outcome_of(unread, "config.pending_reboot"), Unknown)


# ---- config.drift ------------------------------------------------------------------------


def test_drift_when_live_differs_from_a_user_set_value():
    evidence = clean_evidence()
    evidence.session.variables["require_secure_transport"] = "OFF"
    found = outcome_of(checked(aws_mysql(), evidence), "config.drift")
    assert found.evidence["differences"][0]["name"] == "require_secure_transport"
    assert found.evidence["differences"][0]["live_raw"] == "OFF"
    # The safer value (the API's ON) is the one to settle on.
    assert "ParameterValue=1,ApplyMethod=immediate" in found.remediation


def test_no_drift_after_normalisation():
    evidence = clean_evidence()
    evidence.session.variables["tls_version"] = "TLSv1.3,TLSv1.2"
    facts = aws_mysql(
        parameters=(param("require_secure_transport", "1"), param("tls_version", "TLSv1.2,TLSv1.3"))
    )
    assert outcome_of(checked(facts, evidence), "config.drift") is None
    tls1 = aws_mysql(parameters=(param("tls_version", "TLSv1,TLSv1.2"),))
    evidence.session.variables["tls_version"] = "TLSv1.0,TLSv1.2"
    assert outcome_of(checked(tls1, evidence), "config.drift") is None


def test_engine_default_values_never_drift():
    evidence = clean_evidence()
    evidence.session.variables["require_secure_transport"] = "ON"
    facts = aws_mysql(parameters=(param("require_secure_transport", "0", set_by="engine-default"),))
    assert outcome_of(checked(facts, evidence), "config.drift") is None


def test_pending_reboot_is_not_drift():
    evidence = clean_evidence()
    evidence.session.variables["tls_version"] = "TLSv1.2"
    facts = aws_mysql(parameters=(param("tls_version", "TLSv1.3", apply_status="pending-reboot"),))
    assert outcome_of(checked(facts, evidence), "config.drift") is None
    assert outcome_of(checked(facts, evidence), "config.pending_reboot") is not None


def test_drift_unknown_when_live_is_stale_or_older_than_the_api_change():
    evidence = clean_evidence()
    evidence.session.variables["require_secure_transport"] = "OFF"
    stale = checked(aws_mysql(), evidence, at=NOW - timedelta(days=2))
    assert isinstance(outcome_of(stale, "config.drift"), Unknown)
    changed_since = aws_mysql(
        parameters=(param("require_secure_transport", "1", updated_at=NOW - timedelta(minutes=10)),)
    )
    assert isinstance(outcome_of(checked(changed_since, evidence), "config.drift"), Unknown)
    # ... and the API's value is then what runs.
    assert outcome_of(checked(changed_since, evidence), "transport.not_enforced") is None
