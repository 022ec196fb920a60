"""Server certificate and CA rules: expiry thresholds, verification, keys, CAs, rotations."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from checker.evidence import CertificateInfo, Verification
from posture.facts import CertificateAuthority, Pending
from posture.outcomes import Unknown
from tests.posture.builders import (
    NOW,
    aliyun_mysql,
    aws_mysql,
    checked,
    clean_evidence,
    iso,
    leaf,
    outcome_of,
)


@pytest.mark.parametrize(
    ("days", "severity", "cap"),
    [(89, "low", "A"), (30, "medium", "B"), (8, "medium", "B"), (7, "high", "C"), (1, "high", "C")],
)
def test_cert_expiring_thresholds(days, severity, cap):
    facts = aws_mysql(server_cert_not_after=NOW + timedelta(days=days))
    found = outcome_of(facts, "cert.expiring")
    assert (found.severity, found.cap) == (severity, cap)
    assert found.evidence["days_left"] == days
    assert found.evidence["source"] == "api:certificate-details"


def test_cert_far_away_is_clear_past_is_expired_not_expiring():
    far = aws_mysql(server_cert_not_after=NOW + timedelta(days=91))
    assert outcome_of(far, "cert.expiring") is None
    past = aws_mysql(server_cert_not_after=NOW - timedelta(days=1))
    assert outcome_of(past, "cert.expiring") is None
    expired = outcome_of(past, "cert.expired")
    assert expired.cap == "F" and expired.evidence["days_left"] == -1
    assert "--ca-certificate-identifier rds-ca-rsa2048-g1 --apply-immediately" in (
        expired.remediation
    )


def test_fresh_live_not_after_wins_over_the_api():
    evidence = clean_evidence()
    evidence.probe.chain = [leaf(not_after=iso(NOW + timedelta(days=5)))]
    found = outcome_of(checked(aws_mysql(), evidence), "cert.expiring")
    assert (found.severity, found.evidence["source"]) == ("high", "live-wire")


def test_stale_live_not_after_loses_to_the_api():
    evidence = clean_evidence()
    evidence.probe.chain = [leaf(not_after=iso(NOW + timedelta(days=5)))]
    stale = checked(aws_mysql(), evidence, at=NOW - timedelta(days=3))
    assert outcome_of(stale, "cert.expiring") is None


def test_stale_live_not_after_is_used_when_the_api_has_none():
    evidence = clean_evidence()
    evidence.probe.chain = [leaf(not_after=iso(NOW + timedelta(days=5)))]
    stale = checked(aws_mysql(server_cert_not_after=None), evidence, at=NOW - timedelta(days=3))
    assert outcome_of(stale, "cert.expiring").evidence["stale"] is True


def test_session_status_not_after_in_mysql_format():
    evidence = clean_evidence()
    evidence.probe.chain = []
    evidence.session.status["Ssl_server_not_after"] = "Dec  3 08:00:00 2026 GMT"
    found = outcome_of(checked(aws_mysql(server_cert_not_after=None), evidence), "cert.expiring")
    assert found.evidence["not_after"] == "2026-12-03T08:00:00Z"
    assert found.evidence["source"] == "live-variable"


def test_unknown_expiry_is_never_expired():
    facts = aws_mysql(server_cert_not_after=None, lookup_errors=(("server_cert", "denied"),))
    assert outcome_of(facts, "cert.expired") == Unknown("server_cert: denied")
    assert outcome_of(facts, "cert.expiring") == Unknown("server_cert: denied")


def test_apsaradb_expiry_remediation_renews_the_cloud_certificate():
    found = outcome_of(
        aliyun_mysql(server_cert_not_after=NOW + timedelta(days=20)), "cert.expiring"
    )
    assert "aliyun rds ModifyDBInstanceSSL --region cn-hangzhou --DBInstanceId rm-bp1orders" in (
        found.remediation
    )
    assert "Update Validity Period" in found.remediation


@pytest.mark.parametrize(
    ("which", "finding_id"), [("hostname", "cert.hostname_mismatch"), ("trust", "cert.untrusted")]
)
def test_verification_verdicts(which, finding_id):
    evidence = clean_evidence()
    setattr(evidence.probe, which, Verification(False, "mismatch or unknown issuer"))
    found = outcome_of(checked(aws_mysql(), evidence), finding_id)
    assert found.cap == "C" and found.evidence["reason"] == "mismatch or unknown issuer"
    assert outcome_of(checked(aws_mysql()), finding_id) is None
    setattr(evidence.probe, which, Verification(None, "no trust bundle configured"))
    assert outcome_of(checked(aws_mysql(), evidence), finding_id) == Unknown(
        "no trust bundle configured"
    )


def test_untrusted_remediation_names_the_rds_bundle():
    evidence = clean_evidence()
    evidence.probe.trust = Verification(False, "unable to get local issuer certificate")
    found = outcome_of(checked(aws_mysql(), evidence), "cert.untrusted")
    assert "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem" in (
        found.remediation
    )


@pytest.mark.parametrize(
    "certificate",
    [
        leaf(self_signed=True, issuer=f"CN={leaf().common_name}"),
        leaf(
            subject="CN=MySQL_Server_8.0.39_Auto_Generated_Server_Certificate",
            auto_generated="mysql-auto",
        ),
        leaf(subject="CN=MariaDB Server", self_signed=True, auto_generated="mariadb-zero-config"),
    ],
)
def test_self_signed_and_auto_generated(certificate):
    evidence = clean_evidence()
    evidence.probe.chain = [certificate]
    found = outcome_of(checked(aws_mysql(), evidence), "cert.self_signed")
    assert found.cap == "C" and found.evidence["subject"] == certificate.subject


def test_self_signed_clear_and_unknown():
    assert outcome_of(checked(aws_mysql()), "cert.self_signed") is None
    assert outcome_of(aws_mysql(), "cert.self_signed") == Unknown("never checked")


@pytest.mark.parametrize(
    ("key_type", "bits", "weak"),
    [("RSA", 1024, True), ("RSA", 2048, False), ("EC", 224, True), ("EC", 256, False)],
)
def test_weak_key(key_type, bits, weak):
    evidence = clean_evidence()
    evidence.probe.chain = [leaf(key_type=key_type, key_bits=bits)]
    found = outcome_of(checked(aws_mysql(), evidence), "cert.weak_key")
    assert (found is not None) is weak


def test_weak_key_unknown_without_size():
    evidence = clean_evidence()
    evidence.probe.chain = [leaf(key_bits=None)]
    assert isinstance(outcome_of(checked(aws_mysql(), evidence), "cert.weak_key"), Unknown)


def test_weak_signature_counts_relied_on_signatures_only():
    evidence = clean_evidence()
    root = CertificateInfo(subject="CN=Old Root", self_signed=True, signature_hash="sha1")
    evidence.probe.chain = [leaf(), root]
    assert outcome_of(checked(aws_mysql(), evidence), "cert.weak_signature") is None
    evidence.probe.chain = [leaf(signature_hash="sha1"), root]
    found = outcome_of(checked(aws_mysql(), evidence), "cert.weak_signature")
    assert [c["position"] for c in found.evidence["certificates"]] == [0]


# ---- CA ------------------------------------------------------------------------------------


def test_ca_expired_deprecated_and_expiring():
    old = aws_mysql(
        ca_identifier="rds-ca-2019",
        ca=CertificateAuthority("rds-ca-2019", datetime(2024, 8, 22, tzinfo=UTC)),
    )
    assert outcome_of(old, "ca.expired").evidence["ca_identifier"] == "rds-ca-2019"
    deprecated = outcome_of(old, "ca.deprecated")
    assert deprecated.cap == "C"
    assert deprecated.remediation == (
        "aws rds modify-db-instance --db-instance-identifier orders-db "
        "--ca-certificate-identifier rds-ca-rsa2048-g1 --apply-immediately --region us-east-1"
    )
    soon = aws_mysql(ca=CertificateAuthority("rds-ca-rsa2048-g1", NOW + timedelta(days=25)))
    assert outcome_of(soon, "ca.expiring").severity == "medium"
    assert outcome_of(aws_mysql(), "ca.expiring") is None
    assert outcome_of(aws_mysql(), "ca.deprecated") is None


def test_ca_lookup_failure_is_unknown_but_the_identifier_still_counts():
    facts = aws_mysql(
        ca_identifier="rds-ca-2019",
        ca=None,
        ca_lookup_error="rds-ca-2019 is not among the CAs the region lists",
    )
    assert outcome_of(facts, "ca.expired") == Unknown(
        "rds-ca-2019 is not among the CAs the region lists"
    )
    assert outcome_of(facts, "ca.deprecated").evidence["ca_identifier"] == "rds-ca-2019"


def test_cluster_ca_rules_go_to_each_member():
    cluster = aws_mysql(
        kind="cluster",
        identifier="aurora",
        engine="aurora-mysql",
        member_identifiers=("aurora-1", "aurora-2"),
        ca_identifier="",
        ca=None,
    )
    assert outcome_of(cluster, "ca.expired") is None
    evidence = clean_evidence()
    evidence.probe.chain = [leaf(not_after=iso(NOW - timedelta(days=1)))]
    remediation = outcome_of(checked(cluster, evidence), "cert.expired").remediation
    assert "--db-instance-identifier aurora-1" in remediation
    assert "--db-instance-identifier aurora-2" in remediation


@pytest.mark.parametrize("action", ["ca-certificate-rotation", "ca-change"])
def test_rotation_pending_from_pending_actions(action):
    due = NOW + timedelta(days=40)
    found = outcome_of(
        aws_mysql(pending_actions=(Pending(action, due=due),)), "ca.rotation_pending"
    )
    assert found.cap == "B" and found.evidence["actions"][0]["due"] == iso(due)


def test_rotation_pending_remediation_applies_the_maintenance_action():
    facts = aws_mysql(pending_actions=(Pending("ca-certificate-rotation"),))
    assert outcome_of(facts, "ca.rotation_pending").remediation == (
        "aws rds apply-pending-maintenance-action --resource-identifier "
        "arn:aws:rds:us-east-1:111111111111:db:orders-db --apply-action ca-certificate-rotation "
        "--opt-in-type immediate --region us-east-1"
    )


def test_rotation_pending_from_pending_ca_and_apsaradb_renewal():
    pending = outcome_of(aws_mysql(pending_ca_identifier="rds-ca-ecc384-g1"), "ca.rotation_pending")
    assert "--ca-certificate-identifier rds-ca-ecc384-g1" in pending.remediation
    renewal = aliyun_mysql(pending_actions=(Pending("ssl-certificate-renewal"),))
    assert "ModifyDBInstanceSSL" in outcome_of(renewal, "ca.rotation_pending").remediation


def test_rotation_pending_clear_and_unknown():
    assert outcome_of(aws_mysql(), "ca.rotation_pending") is None
    failed = aws_mysql(lookup_errors=(("pending_maintenance", "throttled"),))
    assert outcome_of(failed, "ca.rotation_pending") == Unknown("pending_maintenance: throttled")


def test_proxy_has_no_ca_rules():
    proxy = replace(aws_mysql(), kind="proxy", ca_identifier="", ca=None, parameters=())
    assert all(
        outcome_of(proxy, fid) is None
        for fid in ("ca.expired", "ca.expiring", "ca.deprecated", "ca.rotation_pending")
    )


# ---- root causes: a chain that fails because of its own certificate ------------------------


@pytest.mark.parametrize(
    ("certificate", "verify_message", "cause"),
    [
        (leaf(not_after=iso(NOW - timedelta(days=3))), "certificate has expired", "cert.expired"),
        (
            leaf(self_signed=True, issuer=f"CN={leaf().common_name}"),
            "self-signed certificate",
            "cert.self_signed",
        ),
        (leaf(key_bits=1024), "EE certificate key too weak", "cert.weak_key"),
    ],
)
def test_a_chain_failing_because_of_its_certificate_is_not_untrusted(
    certificate, verify_message, cause
):
    evidence = clean_evidence()
    evidence.probe.chain = [certificate]
    evidence.probe.trust = Verification(False, verify_message)
    facts = checked(aws_mysql(server_cert_not_after=None), evidence)
    assert outcome_of(facts, "cert.untrusted") is None
    found = outcome_of(facts, cause)
    assert found.evidence["chain_verification"] == f"fails because of this: {verify_message}"
    assert "--ca-certificate-identifier" in found.remediation  # a new certificate, not a bundle
    assert "truststore" not in found.remediation


def test_an_issuer_missing_from_the_bundle_stays_untrusted_even_when_expired():
    evidence = clean_evidence()
    evidence.probe.chain = [leaf(not_after=iso(NOW - timedelta(days=3)))]
    evidence.probe.trust = Verification(False, "unable to get local issuer certificate")
    facts = checked(aws_mysql(server_cert_not_after=None), evidence)
    assert outcome_of(facts, "cert.untrusted").evidence["reason"] == (
        "unable to get local issuer certificate"
    )
    assert outcome_of(facts, "cert.expired").cap == "F"


def test_a_trusted_chain_adds_no_chain_verdict_to_an_expired_certificate():
    expired = outcome_of(aws_mysql(server_cert_not_after=NOW - timedelta(days=1)), "cert.expired")
    assert "chain_verification" not in expired.evidence
