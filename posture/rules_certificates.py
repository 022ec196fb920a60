"""Rules about the server certificate (live chain, API expiry) and the instance's CA.

The server certificate and its CA are different certificates with different expiry dates
(docs/design.md "Evidence and precedence"); neither stands in for the other. Pure.
"""

from __future__ import annotations

from datetime import datetime

from checker.evidence import CertificateInfo
from common.timeutil import iso_z
from posture.effective import EffectiveFacts
from posture.fact import Fact
from posture.grades import severity_for_days
from posture.outcomes import Outcome, Raised, Unknown, observed

# PendingAction.action values that mean the CA or certificate is about to change.
ROTATION_ACTIONS = ("ca-certificate-rotation", "ca-change", "ssl-certificate-renewal")
_MIN_KEY_BITS = {"RSA": 2048, "DSA": 2048, "EC": 256}
_WEAK_HASHES = {"sha1", "md5"}
# OpenSSL's verify messages that mean the issuer is not in the bundle or the chain is cut
# short ("self-signed certificate in certificate chain": a root the bundle lacks).
_ISSUER_MISSING = (
    "unable to get local issuer",
    "unable to get issuer",
    "unable to verify the first certificate",
    "in certificate chain",
)


def _days_left(until: datetime, now: datetime) -> float:
    return (until - now).total_seconds() / 86400


def _expiry_evidence(fact: Fact, now: datetime, extra: dict) -> dict:
    return {
        **extra,
        "not_after": iso_z(fact.value),
        "days_left": int(_days_left(fact.value, now) // 1),
        "source": fact.source,
        "at": iso_z(fact.at),
        **({"stale": True} if fact.stale else {}),
    }


def _expired(fact: Fact, now: datetime, **extra) -> Outcome:
    if not fact.known:
        return Unknown(fact.reason)
    if fact.value <= now:
        return Raised(_expiry_evidence(fact, now, extra))
    return None


# ---- root causes of a failed chain --------------------------------------------------------
# A chain that fails verification because its certificate is expired, self-signed or weak is
# that certificate's finding, not cert.untrusted: the fix is a new certificate, not another
# trust bundle (docs/design.md "Finding catalogue", root causes).


def _chain_fails(effective: EffectiveFacts) -> str | None:
    """The verifier's reason when the chain failed against the trust bundle, else None."""
    if not effective.wire_seen or effective.probe.trust.ok is not False:
        return None
    return effective.probe.trust.reason or "the chain does not verify"


def _with_chain_verdict(outcome: Outcome, effective: EffectiveFacts) -> Outcome:
    """A raised certificate finding that explains a failed chain says so in its evidence."""
    reason = _chain_fails(effective)
    if isinstance(outcome, Raised) and reason:
        evidence = {**outcome.evidence, "chain_verification": f"fails because of this: {reason}"}
        return Raised(evidence, severity=outcome.severity)
    return outcome


def chain_failure_causes(effective: EffectiveFacts) -> list[str]:
    """The certificate findings raised here that make a chain fail verification by
    themselves (expired, self-signed or server-generated, weak key or signature)."""
    causes = {
        "cert.expired": _expired(effective.server_cert_not_after, effective.now),
        "cert.self_signed": _self_signed(effective),
        "cert.weak_key": _weak_key(effective),
        "cert.weak_signature": _weak_signature(effective),
    }
    return [finding_id for finding_id, outcome in causes.items() if isinstance(outcome, Raised)]


def _expiring(fact: Fact, effective: EffectiveFacts, **extra) -> Outcome:
    if not fact.known:
        return Unknown(fact.reason)
    days = _days_left(fact.value, effective.now)
    if days <= 0:
        return None  # expired, not expiring
    severity = severity_for_days(days, effective.policy.expiry_days)
    if severity is None:
        return None
    return Raised(_expiry_evidence(fact, effective.now, extra), severity=severity)


def cert_expired(effective: EffectiveFacts) -> Outcome:
    return _with_chain_verdict(_expired(effective.server_cert_not_after, effective.now), effective)


def cert_expiring(effective: EffectiveFacts) -> Outcome:
    return _expiring(effective.server_cert_not_after, effective)


def _verification(effective: EffectiveFacts, which: str) -> Outcome:
    if not effective.wire_seen:
        return Unknown(effective.no_live_reason)
    verdict = getattr(effective.probe, which)
    if verdict.ok is None:
        return Unknown(verdict.reason or f"{which} not evaluated")
    if verdict.ok:
        return None
    leaf = effective.leaf
    return Raised(
        observed(
            effective,
            reason=verdict.reason,
            verified_name=effective.evidence.verified_name,
            trust_bundle=effective.evidence.trust_bundle,
            subject=leaf.subject if leaf else None,
            sans=leaf.sans if leaf else [],
            issuer=leaf.issuer if leaf else None,
        )
    )


def cert_hostname_mismatch(effective: EffectiveFacts) -> Outcome:
    return _verification(effective, "hostname")


def cert_untrusted(effective: EffectiveFacts) -> Outcome:
    """Raised only when the issuer is not in the trust bundle or the chain is incomplete: a
    chain that fails because of an expired, self-signed or weak certificate is that
    certificate's finding (chain_failure_causes)."""
    outcome = _verification(effective, "trust")
    if not isinstance(outcome, Raised):
        return outcome
    reason = (effective.probe.trust.reason or "").lower()
    if any(words in reason for words in _ISSUER_MISSING):
        return outcome  # OpenSSL stops at the first error: the issuer came first
    return None if chain_failure_causes(effective) else outcome


def cert_self_signed(effective: EffectiveFacts) -> Outcome:
    return _with_chain_verdict(_self_signed(effective), effective)


def _self_signed(effective: EffectiveFacts) -> Outcome:
    leaf = effective.leaf
    if leaf is None:
        return Unknown(effective.no_live_reason or "the check saw no certificate")
    if leaf.self_signed or leaf.auto_generated:
        return Raised(
            observed(
                effective,
                subject=leaf.subject,
                issuer=leaf.issuer,
                self_signed=leaf.self_signed,
                auto_generated=leaf.auto_generated,
            )
        )
    return None


def _key_is_weak(cert: CertificateInfo) -> bool | None:
    minimum = _MIN_KEY_BITS.get(cert.key_type.upper())
    if minimum is None:
        return False if cert.key_type else None  # Ed25519/Ed448 are strong
    if cert.key_bits is None:
        return None
    return cert.key_bits < minimum


def _describe(cert: CertificateInfo, position: int) -> dict:
    return {
        "position": position,
        "subject": cert.subject,
        "key_type": cert.key_type,
        "key_bits": cert.key_bits,
        "signature_hash": cert.signature_hash,
    }


def cert_weak_key(effective: EffectiveFacts) -> Outcome:
    return _with_chain_verdict(_weak_key(effective), effective)


def _weak_key(effective: EffectiveFacts) -> Outcome:
    chain = effective.probe.chain if effective.wire_seen else []
    if not chain:
        return Unknown(effective.no_live_reason or "the check saw no certificate")
    verdicts = [_key_is_weak(cert) for cert in chain]
    weak = [_describe(c, i) for i, (c, v) in enumerate(zip(chain, verdicts, strict=True)) if v]
    if weak:
        return Raised(observed(effective, certificates=weak))
    if verdicts[0] is None:
        return Unknown("the leaf's key size was not reported")
    return None


def cert_weak_signature(effective: EffectiveFacts) -> Outcome:
    return _with_chain_verdict(_weak_signature(effective), effective)


def _weak_signature(effective: EffectiveFacts) -> Outcome:
    chain = effective.probe.chain if effective.wire_seen else []
    if not chain:
        return Unknown(effective.no_live_reason or "the check saw no certificate")
    # A root's own signature is never checked by clients, so only signatures that are relied
    # on count: the leaf (even when self-signed) and every certificate below a root.
    weak = [
        _describe(cert, position)
        for position, cert in enumerate(chain)
        if (cert.signature_hash or "").lower() in _WEAK_HASHES
        and not (position > 0 and cert.self_signed)
    ]
    return Raised(observed(effective, certificates=weak)) if weak else None


# ---- the CA ------------------------------------------------------------------------------


def _ca_applies(effective: EffectiveFacts) -> bool:
    """Whether the provider names a CA for this endpoint (RDS DB instances, members
    included; not clusters, proxies or ApsaraDB)."""
    return effective.provider.tracks_ca(effective.facts)


def _ca_valid_till(effective: EffectiveFacts) -> Fact:
    facts = effective.facts
    if facts.ca_lookup_error:
        return Fact(reason=facts.ca_lookup_error)
    if not facts.ca_identifier:
        return Fact(reason=facts.lookup_error("ca") or "the API reported no CA for the instance")
    if facts.ca is None or facts.ca.valid_till is None:
        return Fact(reason=f"the validity of {facts.ca_identifier} is not known")
    return Fact(
        value=facts.ca.valid_till,
        raw=facts.ca_identifier,
        source="api:describe-certificates",
        at=facts.synced_at,
    )


def ca_expired(effective: EffectiveFacts) -> Outcome:
    if not _ca_applies(effective):
        return None
    return _expired(
        _ca_valid_till(effective), effective.now, ca_identifier=effective.facts.ca_identifier
    )


def ca_expiring(effective: EffectiveFacts) -> Outcome:
    if not _ca_applies(effective):
        return None
    return _expiring(
        _ca_valid_till(effective), effective, ca_identifier=effective.facts.ca_identifier
    )


def ca_deprecated(effective: EffectiveFacts) -> Outcome:
    if not _ca_applies(effective):
        return None
    identifier = effective.facts.ca_identifier
    if not identifier:
        return Unknown(
            effective.facts.lookup_error("ca") or "the API reported no CA for the instance"
        )
    if identifier.lower() in effective.provider.retired_cas:
        return Raised(
            {"ca_identifier": identifier, "source": "api", "at": iso_z(effective.facts.synced_at)}
        )
    return None


def ca_rotation_pending(effective: EffectiveFacts) -> Outcome:
    facts = effective.facts
    if facts.kind != "instance":
        return None
    actions = [
        {
            "action": a.action,
            "due": iso_z(a.due),
            "description": a.description,
            "opt_in_status": a.opt_in_status,
        }
        for a in facts.pending_actions
        if a.action in ROTATION_ACTIONS
    ]
    if actions or facts.pending_ca_identifier:
        return Raised(
            {
                "actions": actions,
                "pending_ca_identifier": facts.pending_ca_identifier or None,
                "ca_identifier": facts.ca_identifier or None,
                "source": "api",
                "at": iso_z(facts.synced_at),
            }
        )
    failed = facts.lookup_error("pending", "maintenance")
    return Unknown(failed) if failed else None
