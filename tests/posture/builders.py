"""Plain test data for posture: InstanceFacts and checker Evidence as real dataclasses.

A healthy RDS MySQL 8.0 instance and a clean check are the baseline; each test changes
the one fact it is about.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from checker.evidence import (
    ACCEPTED,
    CIPHER_CLASSES,
    REJECTED,
    SESSION_OK,
    AccountsReadout,
    CertificateInfo,
    Evidence,
    ProbeEvidence,
    ReplicationReadout,
    SessionEvidence,
    Verdict,
    Verification,
)
from common.normalise import normalise_parameter
from posture.facts import (
    CertificateAuthority,
    ClientCheck,
    ClientEvidence,
    ClientSeen,
    InstanceFacts,
    LiveCheck,
    Parameter,
)
from posture.outcomes import Unknown
from posture.rules import evaluate

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
HOST = "orders-db.abc.us-east-1.rds.amazonaws.com"


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def param(name, raw, **kw) -> Parameter:
    defaults = {
        "source": "api:parameter-group",
        "source_name": "orders-tls",
        "set_by": "user",
        "apply_type": "dynamic" if name == "require_secure_transport" else "static",
        "apply_status": "in-sync",
        "updated_at": NOW - timedelta(days=2),
    }
    defaults.update(kw)
    return Parameter(name, raw, normalise_parameter(name, raw), **defaults)


def aws_mysql(**kw) -> InstanceFacts:
    defaults = {
        "instance_id": 1,
        "provider": "aws",
        "account": "prod-aws",
        "region": "us-east-1",
        "kind": "instance",
        "identifier": "orders-db",
        "engine": "mysql",
        "engine_version": "8.0.39",
        "resource_id": "arn:aws:rds:us-east-1:111111111111:db:orders-db",
        "endpoint_host": HOST,
        "endpoint_port": 3306,
        "parameter_group": "orders-tls",
        "parameter_group_is_default": False,
        "parameter_apply_status": "in-sync",
        "parameters": (
            param("require_secure_transport", "1"),
            param("tls_version", "TLSv1.2,TLSv1.3"),
        ),
        "ca_identifier": "rds-ca-rsa2048-g1",
        "ca": CertificateAuthority("rds-ca-rsa2048-g1", datetime(2061, 5, 24, tzinfo=UTC)),
        "server_cert_not_after": NOW + timedelta(days=300),
        "server_cert_source": "api:certificate-details",
        "synced_at": NOW - timedelta(hours=1),
    }
    defaults.update(kw)
    return InstanceFacts(**defaults)


def aliyun_mysql(**kw) -> InstanceFacts:
    defaults = {
        "provider": "aliyun",
        "account": "cn-aliyun",
        "region": "cn-hangzhou",
        "identifier": "rm-bp1orders",
        "resource_id": "rm-bp1orders",
        "endpoint_host": "rm-bp1orders.mysql.rds.aliyuncs.com",
        "ssl_endpoint": "rm-bp1orders.mysql.rds.aliyuncs.com",
        "parameter_group": "",
        "parameter_group_is_default": None,
        "parameters": (
            param(
                "require_secure_transport",
                "OFF",
                source="api:apsaradb-parameters",
                source_name="",
                set_by="",
            ),
        ),
        "ca_identifier": "",
        "ca": None,
        "ssl_enabled": True,
        "ssl_forced": False,
        "server_cert_source": "api:apsaradb-ssl",
    }
    defaults.update(kw)
    return aws_mysql(**defaults)


def leaf(**kw) -> CertificateInfo:
    defaults = {
        "subject": f"CN={HOST}",
        "common_name": HOST,
        "sans": [HOST],
        "issuer": "CN=Amazon RDS us-east-1 Root CA RSA2048 G1",
        "not_before": iso(NOW - timedelta(days=65)),
        "not_after": iso(NOW + timedelta(days=300)),
        "key_type": "RSA",
        "key_bits": 2048,
        "signature_hash": "sha256",
    }
    defaults.update(kw)
    return CertificateInfo(**defaults)


def clean_evidence() -> Evidence:
    """What a check of a well-configured RDS MySQL 8.0 instance shows."""
    protocols = {v: Verdict(REJECTED) for v in ("SSLv3", "TLSv1.0", "TLSv1.1")}
    protocols["TLSv1.2"] = Verdict(ACCEPTED, suite="ECDHE-RSA-AES128-GCM-SHA256")
    protocols["TLSv1.3"] = Verdict(ACCEPTED, suite="TLS_AES_256_GCM_SHA384")
    return Evidence(
        dialed=f"{HOST}:3306",
        verified_name=HOST,
        trust_bundle="rds-global-bundle",
        probe=ProbeEvidence(
            reached=True,
            server_version="8.0.39",
            flavour="mysql",
            tls_offered=True,
            chain=[leaf()],
            trust=Verification(True),
            hostname=Verification(True),
            protocols=protocols,
            cipher_classes={c: Verdict(REJECTED) for c in CIPHER_CLASSES},
            handshakes=9,
        ),
        session=SessionEvidence(
            attempted=True,
            outcome=SESSION_OK,
            tls_version="TLSv1.3",
            tls_cipher="TLS_AES_256_GCM_SHA384",
            variables={
                "require_secure_transport": "ON",
                "tls_version": "TLSv1.2,TLSv1.3",
                "have_ssl": "YES",
                "version": "8.0.39",
                "version_ssl_library": "OpenSSL 3.0.13 30 Jan 2024",
            },
            accounts=AccountsReadout(state="ok"),
            replication=ReplicationReadout(state="not-applicable"),
        ),
    )


def checked(facts: InstanceFacts, evidence: Evidence | None = None, **kw) -> InstanceFacts:
    """The facts with a latest observation (an hour old unless `at` says otherwise)."""
    check = LiveCheck(
        checked_at=kw.pop("at", NOW - timedelta(hours=1)),
        status=kw.pop("status", "ok"),
        evidence=evidence if evidence is not None else clean_evidence(),
    )
    return replace(facts, check=check, **kw)


def without_readiness(remediation: str) -> str:
    """A remediation without its closing readiness line (posture/rules_clients.py)."""
    lines = remediation.splitlines()
    assert lines[-1].startswith("Readiness: "), remediation
    return "\n".join(lines[:-1])


def client_evidence(*sightings, checks=None) -> ClientEvidence:
    """Client evidence as checks within the window left it: named checks every 12 hours for
    ten days unless `checks` says otherwise, and these sightings."""
    if checks is None:
        checks = tuple(ClientCheck(NOW - timedelta(hours=12 * i + 1), "ok") for i in range(20))
    return ClientEvidence(checks=tuple(checks), sightings=tuple(sightings))


def seen(user, host, tls_version="", *, last_seen=None, connections=3, checks=2) -> ClientSeen:
    last_seen = last_seen or NOW - timedelta(hours=2)
    return ClientSeen(
        user, host, tls_version, connections, checks, last_seen - timedelta(days=3), last_seen
    )


def outcome_of(facts: InstanceFacts, finding_id: str, now: datetime = NOW):
    """The FindingResult raised for `finding_id`, Unknown(reason), or None (clear)."""
    evaluation = evaluate(facts, now)
    for finding in evaluation.findings:
        if finding.id == finding_id:
            return finding
    if finding_id in evaluation.unknown:
        return Unknown(evaluation.unknown[finding_id])
    return None
