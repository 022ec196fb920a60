"""clients.plaintext_observed, clients.legacy_tls_observed and the readiness verdicts: pure
rules over the client evidence kept within the window, evaluated at a fixed NOW."""

from __future__ import annotations

from datetime import timedelta

from posture.effective import EffectiveFacts
from posture.facts import ClientCheck
from posture.outcomes import Unknown
from posture.rules import evaluate
from posture.rules_clients import clients_that_would_fail
from tests.posture.builders import (
    NOW,
    aws_mysql,
    checked,
    clean_evidence,
    client_evidence,
    outcome_of,
    param,
    seen,
)

OPEN = (param("require_secure_transport", "0"), param("tls_version", "TLSv1,TLSv1.1,TLSv1.2"))


def _open_server(clients, **kw):
    evidence = clean_evidence()
    evidence.session.variables.update(
        require_secure_transport="OFF", tls_version="TLSv1,TLSv1.1,TLSv1.2"
    )
    return checked(aws_mysql(parameters=OPEN, clients=clients, **kw), evidence)


def test_a_plaintext_client_is_named_and_would_break_enforcement():
    facts = _open_server(
        client_evidence(seen("app", "10.0.3.7"), seen("app", "10.0.3.8", "TLSv1.2"))
    )
    found = outcome_of(facts, "clients.plaintext_observed")
    assert (found.severity, found.cap) == ("high", "C")
    assert found.evidence["clients"] == [
        {
            "client": "app@10.0.3.7",
            "user": "app",
            "host": "10.0.3.7",
            "tls_version": None,
            "connections": 3,
            "checks": 2,
            "first_seen": "2026-11-20T06:00:00Z",
            "last_seen": "2026-11-23T06:00:00Z",
        }
    ]
    assert found.evidence["source"] == "performance_schema"
    assert "app@10.0.3.7" in found.remediation and "VERIFY_IDENTITY" in found.remediation
    summary = evaluate(facts, NOW).summary
    assert summary.enforce_tls.state == "not-ready"
    assert summary.enforce_tls.verdict == "would break: app@10.0.3.7 (last seen 2 h ago)"
    transport = outcome_of(facts, "transport.not_enforced").remediation.splitlines()
    assert transport[-1] == (
        "Readiness: would break: app@10.0.3.7 (last seen 2 h ago). Move these clients to TLS "
        "first: once TLS is enforced they fail with error 3159."
    )
    # The TLS 1.2 client breaks neither change.
    assert outcome_of(facts, "clients.legacy_tls_observed") is None
    assert summary.drop_legacy_tls.verdict == (
        "safe to drop TLS 1.0/1.1: no client on TLS 1.0/1.1 in 20 checks over 10 days"
    )


def test_no_plaintext_client_in_the_window_is_safe_to_enforce():
    facts = _open_server(client_evidence(seen("app", "10.0.3.8", "TLSv1.3")))
    assert outcome_of(facts, "clients.plaintext_observed") is None
    summary = evaluate(facts, NOW).summary
    assert (summary.enforce_tls.state, summary.enforce_tls.verdict) == (
        "ready",
        "safe to enforce TLS: no plaintext client in 20 checks over 10 days",
    )
    assert outcome_of(facts, "transport.not_enforced").remediation.endswith(
        "Readiness: safe to enforce TLS: no plaintext client in 20 checks over 10 days."
    )


def test_a_client_last_seen_before_the_window_no_longer_counts():
    old = seen("batch", "10.0.9.9", last_seen=NOW - timedelta(days=31))
    facts = _open_server(client_evidence(old))
    assert outcome_of(facts, "clients.plaintext_observed") is None
    assert evaluate(facts, NOW).summary.enforce_tls.state == "ready"
    # Evaluated a day after it was seen, the same evidence still names it.
    earlier = NOW - timedelta(days=30)
    assert evaluate(facts, earlier).summary.enforce_tls.verdict == (
        "would break: batch@10.0.9.9 (last seen 24 h ago)"
    )


def test_a_legacy_tls_client_is_named_and_would_break_dropping_tls_1_0():
    facts = _open_server(client_evidence(seen("batch", "10.0.4.2", "TLSv1")))
    found = outcome_of(facts, "clients.legacy_tls_observed")
    assert (found.severity, found.cap) == ("medium", "B")
    assert [c["client"] for c in found.evidence["clients"]] == ["batch@10.0.4.2"]
    assert "batch@10.0.4.2 (TLSv1)" in found.remediation
    summary = evaluate(facts, NOW).summary
    assert summary.drop_legacy_tls.verdict == "would break: batch@10.0.4.2 (last seen 2 h ago)"
    assert summary.enforce_tls.state == "ready"  # a TLS 1.0 client still uses TLS
    legacy = outcome_of(facts, "protocol.legacy_tls").remediation.splitlines()
    assert legacy[-1] == (
        "Readiness: would break: batch@10.0.4.2 (last seen 2 h ago). Upgrade these clients' "
        "TLS library or driver to TLS 1.2 first."
    )


def test_without_client_evidence_everything_is_unknown_with_why():
    facts = _open_server(client_evidence(checks=()))
    reason = (
        "no check logged in and read the client connections within 30 days "
        "(TLSPOSTURE_CLIENT_WINDOW_DAYS)"
    )
    assert outcome_of(facts, "clients.plaintext_observed") == Unknown(reason)
    summary = evaluate(facts, NOW).summary
    assert (summary.enforce_tls.state, summary.enforce_tls.verdict) == (
        "unknown",
        f"unknown: {reason}",
    )
    assert summary.drop_legacy_tls.state == "unknown"
    # Unknown never raises a grade: the grade stays what the other findings make it.
    assert evaluate(facts, NOW).grade == "C"


def test_counters_alone_count_plaintext_without_names_and_cannot_tell_versions():
    off = "performance_schema is OFF (MariaDB's default): …"
    checks = [ClientCheck(NOW - timedelta(hours=1), "off", off, 40, 2)]
    checks += [ClientCheck(NOW - timedelta(days=d), "off", off, 30, 0) for d in range(1, 8)]
    facts = _open_server(client_evidence(checks=checks))
    found = outcome_of(facts, "clients.plaintext_observed")
    assert found.evidence["clients"] == [] and found.evidence["counted_without_tls"] == 2
    assert found.evidence["source"] == "global-counters"
    summary = evaluate(facts, NOW).summary
    assert summary.enforce_tls.verdict == (
        "would break: 2 connections without TLS counted in 8 checks, not named (performance_schema)"
    )
    assert outcome_of(facts, "clients.legacy_tls_observed") == Unknown(
        f"the clients' TLS versions are not known: {off}"
    )
    quiet = [ClientCheck(c.checked_at, "off", off, 30, 0) for c in checks]
    summary = evaluate(_open_server(client_evidence(checks=quiet)), NOW).summary
    assert summary.enforce_tls.verdict == (
        "safe to enforce TLS: no plaintext client in 8 checks over 7 days "
        "(counted, not named: performance_schema is off)"
    )


def test_an_enforced_server_needs_no_verdict():
    facts = checked(aws_mysql(clients=client_evidence()))
    summary = evaluate(facts, NOW).summary
    assert (summary.enforce_tls.state, summary.enforce_tls.verdict) == (
        "done",
        "TLS is already enforced",
    )
    assert summary.drop_legacy_tls.state == "done"


def test_a_verdict_says_how_little_evidence_it_rests_on():
    just_now = client_evidence(checks=[ClientCheck(NOW - timedelta(minutes=3), "ok")])
    summary = evaluate(_open_server(just_now), NOW).summary
    assert summary.enforce_tls.verdict == (
        "safe to enforce TLS: no plaintext client in 1 check over 3 minutes"
    )
    hours = client_evidence(checks=[ClientCheck(NOW - timedelta(hours=5), "ok")] * 2)
    assert evaluate(_open_server(hours), NOW).summary.enforce_tls.verdict.endswith(
        "in 2 checks over 5 hours"
    )


# ---- who a fix plan would cut off (posture.rules_clients.clients_that_would_fail) ------------


def _would_fail(facts, fixes):
    return clients_that_would_fail(EffectiveFacts(facts, NOW), fixes)


def test_the_plan_would_cut_off_the_plaintext_client_when_it_enforces_tls():
    facts = _open_server(
        client_evidence(seen("app", "10.0.3.7"), seen("batch", "10.0.4.2", "TLSv1"))
    )
    enforcing = _would_fail(facts, ["transport.not_enforced"])
    assert enforcing.clients == ["app@10.0.3.7 without TLS (last seen 2 h ago)"]
    both = _would_fail(facts, ["transport.not_enforced", "protocol.legacy_tls"])
    assert both.clients == [
        "app@10.0.3.7 without TLS (last seen 2 h ago)",
        "batch@10.0.4.2 on TLSv1 (last seen 2 h ago)",
    ]
    assert both.text == ", ".join(both.clients)
    # A plan that changes neither cuts nobody off, and says why.
    assert _would_fail(facts, ["cert.expiring"]).clients == []


def test_the_plan_says_none_seen_on_what_evidence_or_unknown_and_why():
    ready = _open_server(client_evidence(seen("app", "10.0.3.8", "TLSv1.3")))
    verdict = _would_fail(ready, ["transport.not_enforced", "protocol.legacy_tls"])
    assert (verdict.clients, verdict.text) == ([], "none seen in 20 checks over 10 days")
    blind = _open_server(client_evidence(checks=()))
    verdict = _would_fail(blind, ["transport.not_enforced"])
    assert verdict.clients is None
    assert verdict.text == (
        "unknown: no check logged in and read the client connections within 30 days "
        "(TLSPOSTURE_CLIENT_WINDOW_DAYS)"
    )
