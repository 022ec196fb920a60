"""The probe against real MariaDB servers: what each fleet scenario shows on the wire."""

from __future__ import annotations

import pytest

from checker.deadline import Deadline
from checker.evidence import ACCEPTED, REJECTED, UNTESTED
from checker.probe import ProbeLimits, probe_endpoint
from fleet.scenarios import endpoint_name

LIMITS = ProbeLimits(connect_timeout=2, read_timeout=2)
A, R = ACCEPTED, REJECTED
#            SSLv3 TLS1.0 TLS1.1 TLS1.2 TLS1.3 | anon/null/export broken static_rsa non_aead
EXPECTED = {
    "enforced": ((R, R, R, A, A), (R, R, A, A)),
    "legacy": ((R, A, A, A, R), (A, R, A, A)),
    # weak_cert's RSA-1024/SHA-1 certificate needs `ALL:@SECLEVEL=0` on the server side,
    # which also enables anonymous suites: a real side effect the probe must catch.
    "weak_cert": ((R, R, R, A, A), (A, R, A, A)),
    "ec_key": ((R, R, R, R, A), (R, R, R, R)),
}


def _probe(tls_fleet, scenario, **limits):
    server = tls_fleet[scenario]
    return probe_endpoint(
        (server.host, server.port),
        endpoint_name(scenario),
        cafile=str(tls_fleet.bundle_path),
        limits=ProbeLimits(**{"connect_timeout": 2, "read_timeout": 2, **limits}),
        deadline=Deadline(20),
    )


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_versions_and_cipher_classes(tls_fleet, scenario):
    evidence = _probe(tls_fleet, scenario)
    versions, classes = EXPECTED[scenario]
    assert tuple(v.state for v in evidence.protocols.values()) == versions
    assert tuple(c.state for c in evidence.cipher_classes.values()) == classes
    assert evidence.handshakes <= 12
    for verdict in (*evidence.protocols.values(), *evidence.cipher_classes.values()):
        assert (verdict.suite is not None) == (verdict.state == ACCEPTED)
        assert verdict.state == ACCEPTED or verdict.detail


def test_the_default_suite_of_each_accepted_version_is_named(tls_fleet):
    evidence = _probe(tls_fleet, "legacy")
    assert evidence.protocols["TLSv1.2"].suite == "ECDHE-RSA-AES128-GCM-SHA256"
    assert evidence.protocols["TLSv1.0"].suite == "ECDHE-RSA-AES128-SHA"
    assert evidence.cipher_classes["anonymous_null_export"].suite.startswith(("ADH-", "AECDH-"))
    assert evidence.protocols["SSLv3"].detail == "handshake_failure alert"
    assert evidence.protocols["TLSv1.3"].detail == "protocol_version alert"


def test_enforced_greeting_chain_and_verdicts(tls_fleet):
    evidence = _probe(tls_fleet, "enforced")
    assert evidence.reached and evidence.tls_offered and not evidence.error
    assert evidence.flavour == "mariadb" and "MariaDB" in evidence.server_version
    assert evidence.handshakes == 10
    leaf, intermediate = evidence.chain
    assert leaf.common_name == "enforced.fleet.test" and leaf.sans == ["enforced.fleet.test"]
    assert leaf.issuer == "CN=tlsposture fleet issuing CA"
    assert (leaf.key_type, leaf.key_bits, leaf.signature_hash) == ("RSA", 2048, "sha256")
    assert len(leaf.sha256_fingerprint) == 64 and leaf.serial
    assert leaf.not_before < leaf.not_after and leaf.not_after.endswith("Z")
    assert leaf.self_signed is False and leaf.auto_generated is None
    assert intermediate.common_name == "tlsposture fleet issuing CA"
    assert evidence.intermediates_observed is True
    assert (evidence.trust.ok, evidence.trust.reason) == (
        True,
        "chain verifies against the trust bundle",
    )
    assert evidence.hostname.ok is True


@pytest.mark.parametrize(
    ("scenario", "trust", "hostname"),
    [
        ("expired", (False, "certificate has expired"), True),
        ("self_signed", (False, "self-signed certificate"), True),
        ("weak_cert", (False, "EE certificate key too weak"), True),
        ("wrong_name", (True, "chain verifies against the trust bundle"), False),
        ("expiring", (True, "chain verifies against the trust bundle"), True),
    ],
)
def test_trust_and_hostname_are_separate_verdicts(tls_fleet, scenario, trust, hostname):
    evidence = _probe(tls_fleet, scenario)
    assert (evidence.trust.ok, evidence.trust.reason) == trust
    assert evidence.hostname.ok is hostname


def test_wrong_name_says_what_the_certificate_names(tls_fleet):
    evidence = _probe(tls_fleet, "wrong_name")
    assert evidence.hostname.reason == (
        "certificate does not name wrong-name.fleet.test (it names other-host.fleet.test)"
    )


def test_weak_certificate_details(tls_fleet):
    [leaf, _] = _probe(tls_fleet, "weak_cert").chain
    assert (leaf.key_type, leaf.key_bits, leaf.signature_hash) == ("RSA", 1024, "sha1")


def test_tls13_only_server_shows_the_leaf_only(tls_fleet):
    evidence = _probe(tls_fleet, "ec_key")
    [leaf] = evidence.chain
    assert (leaf.key_type, leaf.key_bits, leaf.curve) == ("EC", 256, "secp256r1")
    assert evidence.intermediates_observed is False
    assert "intermediates were not observable" in evidence.chain_note
    assert evidence.trust.ok is True and evidence.hostname.ok is True
    assert evidence.handshakes == 6


def test_no_tls_scenario(tls_fleet):
    evidence = _probe(tls_fleet, "no_tls")
    assert evidence.reached is True and evidence.tls_offered is False
    assert evidence.handshakes == 0 and evidence.chain == []


def test_without_a_bundle_the_trust_verdict_is_unknown_not_failed(tls_fleet):
    server = tls_fleet["enforced"]
    evidence = probe_endpoint(
        (server.host, server.port),
        "enforced.fleet.test",
        cafile=None,
        limits=LIMITS,
        deadline=Deadline(20),
    )
    assert (evidence.trust.ok, evidence.trust.reason) == (None, "no trust bundle configured")
    assert evidence.hostname.ok is True


def test_a_small_budget_leaves_questions_untested_with_the_reason(tls_fleet):
    evidence = _probe(tls_fleet, "legacy", max_handshakes=4)
    assert evidence.handshakes == 4
    untested = {
        name: verdict.detail
        for name, verdict in (*evidence.protocols.items(), *evidence.cipher_classes.items())
        if verdict.state == UNTESTED
    }
    # TLS 1.2, TLS 1.3, the trust handshake, TLS 1.1: the rest waits for a bigger budget.
    assert untested == {
        "TLSv1.0": "handshake budget of 4 spent",
        "SSLv3": "handshake budget of 4 spent",
        "anonymous_null_export": "handshake budget of 4 spent",
        "broken": "handshake budget of 4 spent",
        "static_rsa": "handshake budget of 4 spent",
        "non_aead": "handshake budget of 4 spent",
    }
    assert evidence.trust.ok is True  # the trust handshake comes before the legacy questions
