"""Every catalogue id can be raised, and every raised finding carries evidence with its
source and time, and a remediation — checked on two deliberately bad endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from checker.evidence import (
    ACCEPTED,
    CIPHER_CLASSES,
    AccountsReadout,
    PlaintextLogin,
    RemoteAccount,
    ReplicationChannel,
    ReplicationReadout,
    Verdict,
    Verification,
)
from posture.catalogue import FINDING_IDS
from posture.facts import CertificateAuthority, Pending
from posture.rules import evaluate
from tests.posture.builders import (
    NOW,
    aliyun_mysql,
    aws_mysql,
    checked,
    clean_evidence,
    client_evidence,
    iso,
    leaf,
    param,
    seen,
)


def _worst_aws():
    evidence = clean_evidence()
    for version in ("SSLv3", "TLSv1.0"):
        evidence.probe.protocols[version] = Verdict(ACCEPTED, suite="DES-CBC3-SHA")
    evidence.probe.protocols["TLSv1.3"] = Verdict("rejected")
    for cipher_class in CIPHER_CLASSES:
        evidence.probe.cipher_classes[cipher_class] = Verdict(ACCEPTED, suite="ADH-DES-CBC-SHA")
    evidence.probe.trust = Verification(False, "self-signed certificate")
    evidence.probe.hostname = Verification(False, "hostname mismatch")
    evidence.probe.chain = [
        leaf(
            self_signed=True,
            key_bits=1024,
            signature_hash="sha1",
            not_after=iso(NOW + timedelta(days=5)),
        )
    ]
    session = evidence.session
    session.variables.update(require_secure_transport="OFF", ssl_cipher="ALL:@SECLEVEL=0")
    session.plaintext_login = PlaintextLogin(attempted=True, accepted=True)
    session.accounts = AccountsReadout(state="ok", remote=[RemoteAccount("app", "%", "")])
    session.replication = ReplicationReadout(
        state="ok",
        channels=[
            ReplicationChannel(name="a", ssl_allowed="NO"),
            ReplicationChannel(name="b", ssl_allowed="YES", ssl_verify_server_cert=False),
            ReplicationChannel(
                name="c", ssl_allowed="YES", ssl_verify_server_cert=True, tls_version="TLSv1.1"
            ),
        ],
    )
    session.group_replication = {
        "group_replication_recovery_use_ssl": "OFF",
        "group_replication_ssl_mode": "DISABLED",
    }
    facts = aws_mysql(
        parameters=(
            param("require_secure_transport", "1"),
            param("tls_version", "TLSv1.2", apply_status="pending-reboot"),
            param("ssl_cipher", "ALL:@SECLEVEL=0"),
        ),
        ca_identifier="rds-ca-2019",
        ca=CertificateAuthority("rds-ca-2019", datetime(2024, 8, 22, tzinfo=UTC)),
        pending_actions=(Pending("ca-certificate-rotation", due=NOW + timedelta(days=3)),),
        clients=client_evidence(seen("app", "10.0.3.7"), seen("batch", "10.0.4.2", "TLSv1")),
    )
    return checked(facts, evidence)


def _worst_others():
    yield aliyun_mysql(ssl_enabled=False, server_cert_not_after=NOW - timedelta(days=2))
    yield aws_mysql(kind="proxy", identifier="p", parameters=(), proxy_require_tls=False)
    yield aws_mysql(ca=CertificateAuthority("rds-ca-rsa2048-g1", NOW + timedelta(days=10)))
    # The worst endpoint's chain fails because of its self-signed leaf (that finding); a
    # sound certificate from a CA outside the bundle is what cert.untrusted is for.
    outside = clean_evidence()
    outside.probe.trust = Verification(False, "unable to get local issuer certificate")
    yield checked(aws_mysql(identifier="private-ca"), outside)


def _has_key(value, wanted: str) -> bool:
    if isinstance(value, dict):
        return any(k == wanted or _has_key(v, wanted) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_key(v, wanted) for v in value)
    return False


def test_every_id_raised_with_source_time_and_remediation():
    findings = [
        f for facts in (_worst_aws(), *_worst_others()) for f in evaluate(facts, NOW).findings
    ]
    assert {f.id for f in findings} == set(FINDING_IDS)
    for finding in findings:
        assert _has_key(finding.evidence, "source"), finding.id
        assert _has_key(finding.evidence, "at"), finding.id
        assert finding.remediation.strip(), finding.id
    assert evaluate(_worst_aws(), NOW).grade == "F"
