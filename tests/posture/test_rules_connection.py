"""Connection rules: TLS offered and enforced, accounts, protocols, ciphers, proxies.

Each catalogue id: raised, clear, and unknown (which raises nothing).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from checker.evidence import (
    ACCEPTED,
    REJECTED,
    UNTESTED,
    AccountsReadout,
    PlaintextLogin,
    RemoteAccount,
    Verdict,
)
from posture.outcomes import Unknown
from posture.rules import FindingResult
from tests.posture.builders import (
    aliyun_mysql,
    aws_mysql,
    checked,
    clean_evidence,
    outcome_of,
    param,
    without_readiness,
)


def _evidence(**changes):
    evidence = clean_evidence()
    for path, value in changes.items():
        target = evidence
        *parents, name = path.split("__")
        for parent in parents:
            target = getattr(target, parent)
        setattr(target, name, value)
    return evidence


# ---- tls.unavailable ---------------------------------------------------------------------


def test_no_client_ssl_bit_is_tls_unavailable():
    evidence = _evidence(probe__tls_offered=False, session__outcome="tls-failed")
    found = outcome_of(checked(aws_mysql(), evidence), "tls.unavailable")
    assert isinstance(found, FindingResult)
    assert found.severity == "critical" and found.cap == "F"
    assert found.evidence["tls_available"]["source"] == "live-wire"


def test_have_ssl_disabled_is_tls_unavailable():
    evidence = _evidence(probe__tls_offered=None)
    evidence.session.tls_version = None
    evidence.session.variables["have_ssl"] = "DISABLED"
    found = outcome_of(checked(aws_mysql(), evidence), "tls.unavailable")
    assert found.evidence["tls_available"]["raw"] == "DISABLED"


def test_apsaradb_ssl_off_is_tls_unavailable_and_says_how_to_enable_it():
    found = outcome_of(aliyun_mysql(ssl_enabled=False), "tls.unavailable")
    assert found.evidence["ssl_enabled"] is False
    assert "aliyun rds ModifyDBInstanceSSL --region cn-hangzhou --DBInstanceId rm-bp1orders" in (
        found.remediation
    )
    assert "--SSLEnabled 1" in found.remediation


def test_tls_offered_is_clear_and_unchecked_aws_is_unknown():
    assert outcome_of(checked(aws_mysql()), "tls.unavailable") is None
    assert outcome_of(aws_mysql(), "tls.unavailable") == Unknown("never checked")


def test_fresh_live_tls_beats_a_stale_apsaradb_flag():
    assert outcome_of(checked(aliyun_mysql(ssl_enabled=False)), "tls.unavailable") is None


# ---- transport.not_enforced ----------------------------------------------------------------


def test_api_off_without_live_evidence_is_not_enforced_with_aws_command():
    facts = aws_mysql(parameters=(param("require_secure_transport", "0"),))
    found = outcome_of(facts, "transport.not_enforced")
    assert found.severity == "high" and found.cap == "C"
    assert found.evidence["transport_enforced"]["source"] == "api:parameter-group"
    assert without_readiness(found.remediation) == (
        "aws rds modify-db-parameter-group --db-parameter-group-name orders-tls --parameters "
        '"ParameterName=require_secure_transport,ParameterValue=1,ApplyMethod=immediate" '
        "--region us-east-1"
    )


def test_fresh_live_off_wins_over_api_on():
    evidence = clean_evidence()
    evidence.session.variables["require_secure_transport"] = "OFF"
    found = outcome_of(checked(aws_mysql(), evidence), "transport.not_enforced")
    assert found.evidence["transport_enforced"]["source"] == "live-variable"
    assert found.evidence["require_secure_transport"]["after_reboot"]["value"] is True


def test_enforced_is_clear_and_missing_parameter_is_unknown_with_lookup_reason():
    assert outcome_of(aws_mysql(), "transport.not_enforced") is None
    facts = aws_mysql(parameters=(), lookup_errors=(("parameters", "AccessDenied"),))
    assert outcome_of(facts, "transport.not_enforced") == Unknown(
        "parameters: AccessDenied; live: never checked"
    )


def test_mariadb_without_the_variable_cannot_enforce():
    facts = aws_mysql(engine="mariadb", engine_version="10.4.34", parameters=())
    found = outcome_of(facts, "transport.not_enforced")
    assert found.evidence["transport_enforced"]["source"] == "engine-version"
    assert "from 10.5.2" in found.remediation


def test_apsaradb_enabled_is_not_enforced():
    # SSLEnabled=Yes says TLS is available; it never counts as enforced.
    found = outcome_of(aliyun_mysql(ssl_enabled=True, ssl_forced=False), "transport.not_enforced")
    assert found.evidence["ssl_enabled"] is True
    assert found.evidence["force_encryption"]["value"] is False
    assert "--ForceEncryption 1" in found.remediation
    assert "Data Security → SSL → Force encryption: on" in found.remediation


def test_apsaradb_forced_is_enforced_and_unknown_force_is_unknown():
    assert outcome_of(aliyun_mysql(ssl_forced=True), "transport.not_enforced") is None
    unknown = outcome_of(aliyun_mysql(ssl_forced=None), "transport.not_enforced")
    assert unknown == Unknown("ForceEncryption not reported")


def test_aurora_member_changes_the_cluster_group():
    facts = aws_mysql(
        identifier="aurora-1",
        engine="aurora-mysql",
        engine_version="8.0.mysql_aurora.3.05.2",
        parent_identifier="aurora",
        parent_parameter_group="aurora-tls",
        parent_parameter_group_is_default=False,
        parameters=(
            param(
                "require_secure_transport",
                "OFF",
                source="api:cluster-parameter-group",
                source_name="aurora-tls",
            ),
        ),
    )
    found = outcome_of(facts, "transport.not_enforced")
    assert without_readiness(found.remediation) == (
        "aws rds modify-db-cluster-parameter-group --db-cluster-parameter-group-name aurora-tls "
        '--parameters "ParameterName=require_secure_transport,ParameterValue=ON,'
        'ApplyMethod=immediate" --region us-east-1'
    )


def test_default_group_remediation_creates_attaches_and_reboots():
    facts = aws_mysql(
        parameter_group="default.mysql8.0",
        parameter_group_is_default=True,
        parameters=(param("require_secure_transport", "0", set_by="engine-default"),),
    )
    lines = without_readiness(outcome_of(facts, "transport.not_enforced").remediation)
    lines = lines.splitlines()
    assert lines[0].startswith("default.mysql8.0 is a default parameter group")
    assert lines[1:] == [
        "aws rds create-db-parameter-group --db-parameter-group-name orders-db-tls "
        "--db-parameter-group-family mysql8.0 --description 'TLS settings for orders-db' "
        "--region us-east-1",
        "aws rds modify-db-parameter-group --db-parameter-group-name orders-db-tls --parameters "
        '"ParameterName=require_secure_transport,ParameterValue=1,ApplyMethod=immediate" '
        "--region us-east-1",
        "aws rds modify-db-instance --db-instance-identifier orders-db "
        "--db-parameter-group-name orders-db-tls --apply-immediately --region us-east-1",
        "aws rds reboot-db-instance --db-instance-identifier orders-db --region us-east-1",
    ]


def test_aurora_default_cluster_group_remediation():
    facts = aws_mysql(
        kind="cluster",
        identifier="aurora",
        engine="aurora-mysql",
        engine_version="8.0.mysql_aurora.3.05.2",
        parameter_group="default.aurora-mysql8.0",
        parameter_group_is_default=True,
        member_identifiers=("aurora-1", "aurora-2"),
        parameters=(param("require_secure_transport", "OFF", set_by="engine-default"),),
    )
    remediation = outcome_of(facts, "transport.not_enforced").remediation
    assert "create-db-cluster-parameter-group --db-cluster-parameter-group-name aurora-tls" in (
        remediation
    )
    assert "--db-parameter-group-family aurora-mysql8.0" in remediation
    assert "modify-db-cluster --db-cluster-identifier aurora" in remediation
    assert "reboot-db-instance --db-instance-identifier aurora-2" in remediation


# ---- transport.plaintext_login_accepted ----------------------------------------------------


def test_plaintext_canary_accepted_is_critical_and_clear_when_refused():
    evidence = clean_evidence()
    evidence.session.plaintext_login = PlaintextLogin(attempted=True, accepted=True)
    found = outcome_of(checked(aws_mysql(), evidence), "transport.plaintext_login_accepted")
    assert found.severity == "critical" and found.evidence["source"] == "live-login"
    evidence.session.plaintext_login = PlaintextLogin(True, False, 3159)
    assert outcome_of(checked(aws_mysql(), evidence), "transport.plaintext_login_accepted") is None


def test_plaintext_canary_not_configured_is_unknown_unless_enforced():
    off = aws_mysql(parameters=(param("require_secure_transport", "0"),))
    assert isinstance(outcome_of(off, "transport.plaintext_login_accepted"), Unknown)
    assert outcome_of(aws_mysql(), "transport.plaintext_login_accepted") is None


# ---- accounts.without_require_ssl ----------------------------------------------------------


def _accounts(*accounts):
    evidence = clean_evidence()
    evidence.session.variables["require_secure_transport"] = "OFF"
    evidence.session.accounts = AccountsReadout(state="ok", remote=list(accounts))
    return evidence


def test_remote_account_without_require_ssl_when_not_enforced():
    evidence = _accounts(
        RemoteAccount("app", "%", ""),
        RemoteAccount("o'brien", "10.0.%", ""),
        RemoteAccount("report", "%", "ANY"),
        RemoteAccount("local", "localhost", ""),
    )
    off = aws_mysql(parameters=(param("require_secure_transport", "0"),))
    found = outcome_of(checked(off, evidence), "accounts.without_require_ssl")
    assert [(a["user"], a["host"]) for a in found.evidence["accounts"]] == [
        ("app", "%"),
        ("o'brien", "10.0.%"),
    ]
    assert found.remediation.splitlines()[:2] == [
        "ALTER USER 'app'@'%' REQUIRE SSL;",
        "ALTER USER 'o''brien'@'10.0.%' REQUIRE SSL;",
    ]


def test_accounts_clear_when_enforced_or_all_require_ssl():
    evidence = _accounts(RemoteAccount("app", "%", ""))
    evidence.session.variables["require_secure_transport"] = "ON"
    assert outcome_of(checked(aws_mysql(), evidence), "accounts.without_require_ssl") is None
    evidence = _accounts(RemoteAccount("app", "%", "X509"))
    assert outcome_of(checked(aws_mysql(), evidence), "accounts.without_require_ssl") is None


def test_accounts_unknown_without_privilege():
    evidence = _accounts()
    evidence.session.accounts = AccountsReadout(state="no-privilege", reason="SELECT denied")
    found = outcome_of(checked(aws_mysql(), evidence), "accounts.without_require_ssl")
    assert found == Unknown("accounts not readable (no-privilege: SELECT denied)")


# ---- protocols ----------------------------------------------------------------------------


def test_sslv3_accepted_raised_rejected_clear_untested_unknown():
    evidence = clean_evidence()
    evidence.probe.protocols["SSLv3"] = Verdict(ACCEPTED, suite="DES-CBC3-SHA")
    assert outcome_of(checked(aws_mysql(), evidence), "protocol.sslv3").cap == "F"
    assert outcome_of(checked(aws_mysql()), "protocol.sslv3") is None
    evidence.probe.protocols["SSLv3"] = Verdict(UNTESTED, detail="client cannot offer SSLv3")
    assert outcome_of(checked(aws_mysql(), evidence), "protocol.sslv3") == Unknown(
        "client cannot offer SSLv3"
    )


def test_legacy_tls_from_live_acceptance():
    evidence = clean_evidence()
    evidence.probe.protocols["TLSv1.1"] = Verdict(ACCEPTED, suite="ECDHE-RSA-AES128-SHA")
    found = outcome_of(checked(aws_mysql(), evidence), "protocol.legacy_tls")
    assert found.evidence["accepted"] == ["TLSv1.1"] and found.cap == "B"
    assert '"ParameterName=tls_version,' in found.remediation
    assert "ParameterValue='TLSv1.2,TLSv1.3',ApplyMethod=pending-reboot" in found.remediation
    assert "reboot-db-instance --db-instance-identifier orders-db" in found.remediation


def test_legacy_tls_from_configuration_alone():
    facts = aws_mysql(
        engine_version="5.7.44",
        parameters=(param("require_secure_transport", "1"), param("tls_version", "TLSv1,TLSv1.2")),
    )
    found = outcome_of(facts, "protocol.legacy_tls")
    assert found.evidence["allowed_by_tls_version"] == ["TLSv1.0"]
    # RDS MySQL 5.7 cannot do TLS 1.3: the fix must not ask for it.
    assert "ParameterValue=TLSv1.2,ApplyMethod=pending-reboot" in found.remediation


def test_legacy_tls_clear_and_unknown():
    assert outcome_of(checked(aws_mysql()), "protocol.legacy_tls") is None
    facts = aws_mysql(parameters=(param("require_secure_transport", "1"),))
    assert isinstance(outcome_of(facts, "protocol.legacy_tls"), Unknown)


def test_no_tls13_only_where_the_engine_supports_it():
    evidence = clean_evidence()
    evidence.probe.protocols["TLSv1.3"] = Verdict(REJECTED)
    found = outcome_of(checked(aws_mysql(), evidence), "protocol.no_tls13")
    assert found.severity == "low" and found.cap == "A"
    # MySQL 5.7 cannot offer TLS 1.3: not a finding.
    evidence.session.variables["version"] = "5.7.44"
    evidence.probe.server_version = "5.7.44"
    old = aws_mysql(engine_version="5.7.44")
    assert outcome_of(checked(old, evidence), "protocol.no_tls13") is None


def test_no_tls13_needs_openssl_111():
    evidence = clean_evidence()
    evidence.probe.protocols["TLSv1.3"] = Verdict(REJECTED)
    evidence.session.variables["version_ssl_library"] = "OpenSSL 1.0.2k-fips  26 Jan 2017"
    assert outcome_of(checked(aws_mysql(), evidence), "protocol.no_tls13") is None


def test_no_tls13_mariadb_by_library_and_unknown_without_it():
    mariadb = aws_mysql(engine="mariadb", engine_version="10.11.9")
    evidence = clean_evidence()
    evidence.probe.protocols["TLSv1.3"] = Verdict(REJECTED)
    evidence.probe.server_version = "5.5.5-10.11.9-MariaDB"
    evidence.session.variables.update(version="10.11.9-MariaDB", tls_version="TLSv1.2")
    assert outcome_of(checked(mariadb, evidence), "protocol.no_tls13").id == "protocol.no_tls13"
    del evidence.session.variables["version_ssl_library"]
    assert isinstance(outcome_of(checked(mariadb, evidence), "protocol.no_tls13"), Unknown)


# ---- ciphers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cipher_class", "finding_id", "cap"),
    [
        ("anonymous_null_export", "cipher.anonymous_or_null", "F"),
        ("broken", "cipher.broken", "C"),
        ("static_rsa", "cipher.no_forward_secrecy", "B"),
    ],
)
def test_cipher_classes(cipher_class, finding_id, cap):
    evidence = clean_evidence()
    evidence.probe.cipher_classes[cipher_class] = Verdict(
        ACCEPTED, suite="X", suites=["ADH-AES256-GCM-SHA384"]
    )
    found = outcome_of(checked(aws_mysql(), evidence), finding_id)
    assert found.cap == cap and found.evidence["accepted"] == ["ADH-AES256-GCM-SHA384"]
    assert "ECDHE-RSA-AES128-GCM-SHA256" in found.remediation
    assert outcome_of(checked(aws_mysql()), finding_id) is None
    evidence.probe.cipher_classes[cipher_class] = Verdict(UNTESTED, detail="budget spent")
    assert outcome_of(checked(aws_mysql(), evidence), finding_id) == Unknown("budget spent")


def test_policy_weakened_from_ssl_cipher_tokens():
    facts = aws_mysql(
        engine="mariadb",
        engine_version="10.11.9",
        parameters=(
            param("require_secure_transport", "1"),
            param("ssl_cipher", "ALL:@SECLEVEL=0"),
        ),
    )
    found = outcome_of(facts, "cipher.policy_weakened")
    assert found.cap == "C"
    assert "@SECLEVEL=0 allows every weak suite and key size" in found.evidence["reasons"]
    # MariaDB's ssl_cipher also carries the TLS 1.3 suites.
    assert "TLS_AES_256_GCM_SHA384" in found.remediation


def test_policy_clear_for_default_or_hardened_and_unknown_when_unread():
    default = aws_mysql(parameters=(param("ssl_cipher", None, set_by="engine-default"),))
    assert outcome_of(default, "cipher.policy_weakened") is None
    hardened = aws_mysql(parameters=(param("ssl_cipher", "ECDHE-RSA-AES128-GCM-SHA256"),))
    assert outcome_of(hardened, "cipher.policy_weakened") is None
    assert isinstance(outcome_of(aws_mysql(), "cipher.policy_weakened"), Unknown)


# ---- proxy.tls_not_required ---------------------------------------------------------------


def test_proxy_require_tls():
    proxy = aws_mysql(kind="proxy", identifier="orders-proxy", engine="MYSQL", parameters=())
    found = outcome_of(replace(proxy, proxy_require_tls=False), "proxy.tls_not_required")
    assert found.remediation == (
        "aws rds modify-db-proxy --db-proxy-name orders-proxy --require-tls --region us-east-1"
    )
    assert outcome_of(replace(proxy, proxy_require_tls=True), "proxy.tls_not_required") is None
    assert isinstance(outcome_of(proxy, "proxy.tls_not_required"), Unknown)
    # An instance is never judged by the proxy rule.
    assert outcome_of(aws_mysql(proxy_require_tls=False), "proxy.tls_not_required") is None
