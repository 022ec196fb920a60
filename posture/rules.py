"""Evaluate one endpoint: every catalogue rule, the grade, the A+ rule and the `?` state.

PURE: it takes InstanceFacts (inventory facts + the latest observation's Evidence), `now`
and a Policy, and returns an Evaluation. No Django model, no ORM, no clock of its own.

Grade: start at A, take the lowest cap of all open findings. A finding whose rule cannot
decide this time (unknown) stays open if it was open — unknown never resolves — and keeps
capping the grade. `?` means no evidence at all: never checked and nothing from the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from checker.evidence import ACCEPTED, CIPHER_CLASSES, REJECTED
from common.normalise import lowest_tls_version
from posture.catalogue import CATALOGUE, INCOMPLETE_EVIDENCE, Rule, cap_for
from posture.effective import EffectiveFacts
from posture.facts import InstanceFacts, Policy
from posture.grades import NO_EVIDENCE, severity_rank, worst_grade
from posture.outcomes import Raised, Unknown
from posture.rules_clients import Readiness, drop_legacy_tls_readiness, enforce_tls_readiness
from posture.rules_evidence import missing_evidence

# Each id's rule, as the catalogue declares it.
RULES: dict[str, Rule] = {entry.id: entry.rule for entry in CATALOGUE}

A_PLUS_MIN_VALIDITY = timedelta(days=30)
_LEGACY_PROTOCOLS = ("SSLv3", "TLSv1.0", "TLSv1.1")


@dataclass(frozen=True)
class FindingResult:
    id: str
    severity: str
    cap: str
    evidence: dict
    remediation: str


@dataclass(frozen=True)
class Summary:
    """The flattened current posture (InstancePosture, report rows)."""

    transport_enforced: bool | None = None
    transport_enforced_source: str = ""
    tls_versions_configured: list[str] | None = None
    tls_versions_accepted: list[str] | None = None
    # Versions a handshake showed refused; a version in neither list was not learned.
    tls_versions_rejected: list[str] | None = None
    lowest_tls_accepted: str | None = None
    server_cert_not_after: datetime | None = None
    server_cert_source: str = ""
    ca_valid_till: datetime | None = None
    unknowns: dict[str, str] = field(default_factory=dict)  # fact → why it is unknown
    # Would enforcing TLS / refusing TLS 1.0–1.1 break a client? (posture/rules_clients.py)
    enforce_tls: Readiness | None = None
    drop_legacy_tls: Readiness | None = None


@dataclass(frozen=True)
class Evaluation:
    grade: str
    findings: tuple[FindingResult, ...]
    # Finding ids the rules could not decide, with why; open ones among them are carried.
    unknown: dict[str, str]
    carried: tuple[tuple[str, str], ...]  # (id, severity) kept open because unknown now
    a_plus_blockers: tuple[str, ...]
    summary: Summary

    @property
    def open_ids(self) -> list[str]:
        return sorted({f.id for f in self.findings} | {fid for fid, _ in self.carried})


def evaluate(facts: InstanceFacts, now: datetime, policy: Policy | None = None) -> Evaluation:
    effective = EffectiveFacts(facts, now, policy)
    findings: list[FindingResult] = []
    unknown: dict[str, str] = {}
    for entry in CATALOGUE:
        outcome = entry.rule(effective)
        if isinstance(outcome, Raised):
            severity = outcome.severity or entry.severity
            findings.append(
                FindingResult(
                    id=entry.id,
                    severity=severity,
                    cap=entry.cap_for(severity),
                    evidence=outcome.evidence,
                    remediation=entry.remediation(effective, outcome.evidence),
                )
            )
        elif isinstance(outcome, Unknown):
            unknown[entry.id] = outcome.reason
    carried = tuple((fid, sev) for fid, sev in facts.open_findings if fid in unknown)
    caps = [f.cap for f in findings] + [cap_for(fid, sev) for fid, sev in carried]
    severities = [f.severity for f in findings] + [sev for _, sev in carried]
    blockers = tuple(a_plus_blockers(effective, severities))
    decisive = [f for f in findings if f.id != INCOMPLETE_EVIDENCE] or carried
    if not decisive and not has_evidence(effective):
        grade = NO_EVIDENCE
    else:
        grade = worst_grade(caps)
        if grade == "A" and not blockers:
            grade = "A+"
    return Evaluation(
        grade=grade,
        findings=tuple(findings),
        unknown=unknown,
        carried=carried,
        a_plus_blockers=blockers,
        summary=summarise(effective),
    )


def has_evidence(effective: EffectiveFacts) -> bool:
    facts = effective.facts
    return bool(
        effective.wire_seen
        or effective.session_ok
        or facts.parameters
        or facts.server_cert_not_after
        or facts.ssl_enabled is not None
        or facts.ssl_forced is not None
        or facts.proxy_require_tls is not None
    )


def a_plus_blockers(effective: EffectiveFacts, severities: list[str]) -> list[str]:
    """What stands between this endpoint and A+; [] means A+ (if nothing caps it lower)."""
    # What evidence.incomplete lists comes first, in the same words: why and what supplies it.
    blockers = [item.sentence() for item in missing_evidence(effective)]
    if effective.transport_enforced.value is False:
        blockers.append("transport is not enforced")
    if effective.protocol("TLSv1.3").state != ACCEPTED:
        blockers.append("TLS 1.3 was not seen offered")
    below = [v for v in _LEGACY_PROTOCOLS if effective.protocol(v).state != REJECTED]
    if below:
        blockers.append(f"not seen refused: {', '.join(below)}")
    weak = [c for c in CIPHER_CLASSES if effective.cipher_class(c).state != REJECTED]
    if weak:
        blockers.append(f"cipher classes not seen refused: {', '.join(weak)}")
    if not (effective.wire_seen and effective.probe.trust.ok and effective.probe.hostname.ok):
        blockers.append("the certificate was not seen verifying with the hostname")
    not_after = effective.server_cert_not_after
    if not not_after.known or not_after.value - effective.now <= A_PLUS_MIN_VALIDITY:
        blockers.append("the certificate is not known valid for more than 30 days")
    if any(severity_rank(s) <= severity_rank("medium") for s in severities):
        blockers.append("a finding of medium severity or worse is open")
    return blockers


def summarise(effective: EffectiveFacts) -> Summary:
    enforced = effective.transport_enforced
    configured = effective.running("tls_version")
    not_after = effective.server_cert_not_after
    accepted = effective.tls_versions_accepted
    facts = effective.facts
    unknowns = {}
    if not enforced.known:
        unknowns["transport_enforced"] = enforced.reason
    if not configured.known and facts.kind != "proxy":
        unknowns["tls_versions_configured"] = configured.reason
    if accepted is None:
        unknowns["tls_versions_accepted"] = effective.no_live_reason or "no protocol was tested"
    if not not_after.known:
        unknowns["server_cert_not_after"] = not_after.reason
    pending_unread = facts.lookup_error("pending")
    if pending_unread:
        unknowns["pending_rotations"] = pending_unread
    for fact in ("ssl_enabled", "ssl_forced"):  # ApsaraDB's two facts, when not stated
        why = facts.lookup_error(fact) or facts.lookup_error("ssl")
        if getattr(facts, fact) is None and why:
            unknowns[fact] = why
    ca_valid_till = facts.ca.valid_till if facts.ca else None
    if ca_valid_till is None and effective.provider.tracks_ca(facts):
        unknowns["ca_valid_till"] = facts.ca_lookup_error or "the CA's validity is not known"
    return Summary(
        transport_enforced=enforced.value,
        transport_enforced_source=enforced.source if enforced.known else "",
        tls_versions_configured=list(configured.value) if configured.known else None,
        tls_versions_accepted=accepted,
        tls_versions_rejected=effective.tls_versions_rejected,
        lowest_tls_accepted=lowest_tls_version(accepted),
        server_cert_not_after=not_after.value,
        server_cert_source=not_after.source if not_after.known else "",
        ca_valid_till=ca_valid_till,
        unknowns=unknowns,
        enforce_tls=enforce_tls_readiness(effective),
        drop_legacy_tls=drop_legacy_tls_readiness(effective),
    )
