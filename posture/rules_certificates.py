"""Rules about the server certificate (live chain, API expiry) and the instance's CA.

The server certificate and its CA are different certificates with different expiry dates
(DESIGN.md); neither stands in for the other. Pure.
"""

from __future__ import annotations

from datetime import datetime

from checker.evidence import CertificateInfo
from common.timeutil import iso_z
from posture.catalogue import DEPRECATED_CAS, severity_for_days
from posture.effective import Fact, View
from posture.outcomes import Outcome, Raised, Unknown, observed

# PendingAction.action values that mean the CA or certificate is about to change.
ROTATION_ACTIONS = ("ca-certificate-rotation", "ca-change", "ssl-certificate-renewal")
_MIN_KEY_BITS = {"RSA": 2048, "DSA": 2048, "EC": 256}
_WEAK_HASHES = {"sha1", "md5"}


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


def _expiring(fact: Fact, view: View, **extra) -> Outcome:
    if not fact.known:
        return Unknown(fact.reason)
    days = _days_left(fact.value, view.now)
    if days <= 0:
        return None  # expired, not expiring
    severity = severity_for_days(days, view.policy.expiry_days)
    if severity is None:
        return None
    return Raised(_expiry_evidence(fact, view.now, extra), severity=severity)


def cert_expired(view: View) -> Outcome:
    return _expired(view.server_cert_not_after, view.now)


def cert_expiring(view: View) -> Outcome:
    return _expiring(view.server_cert_not_after, view)


def _verification(view: View, which: str) -> Outcome:
    if not view.wire_seen:
        return Unknown(view.no_live_reason)
    verdict = getattr(view.probe, which)
    if verdict.ok is None:
        return Unknown(verdict.reason or f"{which} not evaluated")
    if verdict.ok:
        return None
    leaf = view.leaf
    return Raised(
        observed(
            view,
            reason=verdict.reason,
            verified_name=view.evidence.verified_name,
            trust_bundle=view.evidence.trust_bundle,
            subject=leaf.subject if leaf else None,
            sans=leaf.sans if leaf else [],
            issuer=leaf.issuer if leaf else None,
        )
    )


def cert_hostname_mismatch(view: View) -> Outcome:
    return _verification(view, "hostname")


def cert_untrusted(view: View) -> Outcome:
    return _verification(view, "trust")


def cert_self_signed(view: View) -> Outcome:
    leaf = view.leaf
    if leaf is None:
        return Unknown(view.no_live_reason or "the check saw no certificate")
    if leaf.self_signed or leaf.auto_generated:
        return Raised(
            observed(
                view,
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


def cert_weak_key(view: View) -> Outcome:
    chain = view.probe.chain if view.wire_seen else []
    if not chain:
        return Unknown(view.no_live_reason or "the check saw no certificate")
    verdicts = [_key_is_weak(cert) for cert in chain]
    weak = [_describe(c, i) for i, (c, v) in enumerate(zip(chain, verdicts, strict=True)) if v]
    if weak:
        return Raised(observed(view, certificates=weak))
    if verdicts[0] is None:
        return Unknown("the leaf's key size was not reported")
    return None


def cert_weak_signature(view: View) -> Outcome:
    chain = view.probe.chain if view.wire_seen else []
    if not chain:
        return Unknown(view.no_live_reason or "the check saw no certificate")
    # A root's own signature is never checked by clients, so only signatures that are relied
    # on count: the leaf (even when self-signed) and every certificate below a root.
    weak = [
        _describe(cert, position)
        for position, cert in enumerate(chain)
        if (cert.signature_hash or "").lower() in _WEAK_HASHES
        and not (position > 0 and cert.self_signed)
    ]
    return Raised(observed(view, certificates=weak)) if weak else None


# ---- the CA ------------------------------------------------------------------------------


def _ca_applies(view: View) -> bool:
    """A provider CA is tracked for AWS DB instances (members included), not clusters/proxies."""
    facts = view.facts
    return facts.provider == "aws" and facts.kind == "instance"


def _ca_valid_till(view: View) -> Fact:
    facts = view.facts
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


def ca_expired(view: View) -> Outcome:
    if not _ca_applies(view):
        return None
    return _expired(_ca_valid_till(view), view.now, ca_identifier=view.facts.ca_identifier)


def ca_expiring(view: View) -> Outcome:
    if not _ca_applies(view):
        return None
    return _expiring(_ca_valid_till(view), view, ca_identifier=view.facts.ca_identifier)


def ca_deprecated(view: View) -> Outcome:
    if not _ca_applies(view):
        return None
    identifier = view.facts.ca_identifier
    if not identifier:
        return Unknown(view.facts.lookup_error("ca") or "the API reported no CA for the instance")
    if identifier.lower() in DEPRECATED_CAS:
        return Raised(
            {"ca_identifier": identifier, "source": "api", "at": iso_z(view.facts.synced_at)}
        )
    return None


def ca_rotation_pending(view: View) -> Outcome:
    facts = view.facts
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
