"""Rules about the connection itself: TLS offered and enforced, accounts, protocols, ciphers.

Pure: each rule takes an EffectiveFacts (posture/effective.py) and returns an Outcome.
"""

from __future__ import annotations

from checker.evidence import ACCEPTED, REJECTED
from common.engines import LOCAL_HOSTS
from common.normalise import LEGACY_TLS_VERSIONS
from common.timeutil import iso_z
from posture.ciphers import weakening_tokens
from posture.effective import EffectiveFacts
from posture.fact import LIVE_LOGIN
from posture.outcomes import Outcome, Raised, Unknown, observed

_LEGACY_TLS = ("TLSv1.0", "TLSv1.1")


def _verdict_unknown(effective: EffectiveFacts, version_or_class: str) -> Unknown:
    verdict = effective.protocol(version_or_class)
    return Unknown(verdict.detail or f"{version_or_class}: {verdict.state}")


def tls_unavailable(effective: EffectiveFacts) -> Outcome:
    fact = effective.tls_available
    if not fact.known:
        return Unknown(fact.reason)
    if fact.value:
        return None
    evidence = {"tls_available": fact.evidence()}
    evidence.update(effective.provider.tls_evidence(effective))
    return Raised(evidence)


def plaintext_login_accepted(effective: EffectiveFacts) -> Outcome:
    login = effective.session.plaintext_login
    if effective.check is not None and login.attempted and login.accepted is not None:
        if not login.accepted:
            return None
        if effective.fresh or effective.transport_enforced.value is not True:
            return Raised(
                {
                    "attempted": True,
                    "accepted": True,
                    "source": LIVE_LOGIN,
                    "at": iso_z(effective.checked_at),
                    "stale": not effective.fresh,
                }
            )
    if effective.transport_enforced.value is True:
        return None  # an enforced server refuses it; nothing to test
    if effective.check is None:
        return Unknown("never checked")
    if login.reason:
        # Tried and undecided ("canary refused: the server asked for dialog"), or set up
        # but unusable (its variable refused or unset): say why, not "not configured".
        return Unknown(f"plaintext-login canary: {login.reason}")
    return Unknown("the plaintext-login canary is not configured for this endpoint")


def transport_not_enforced(effective: EffectiveFacts) -> Outcome:
    if effective.facts.kind == "proxy":
        return None  # proxy.tls_not_required says it for proxies
    fact = effective.transport_enforced
    if not fact.known:
        return Unknown(fact.reason)
    if fact.value:
        return None
    parameter = effective.enforcement_parameter
    evidence = {
        "transport_enforced": fact.evidence(),
        parameter: {
            "running": effective.running(parameter).evidence(),
            "after_reboot": effective.api(parameter).evidence(),
        },
    }
    evidence.update(effective.provider.enforcement_evidence(effective))
    return Raised(evidence)


def accounts_without_require_ssl(effective: EffectiveFacts) -> Outcome:
    if effective.facts.kind == "proxy":
        return None
    enforced = effective.transport_enforced
    if enforced.value is True:
        return None
    if not enforced.known:
        return Unknown(f"transport enforcement unknown: {enforced.reason}")
    if not effective.session_ok:
        return Unknown(effective.no_session_reason)
    readout = effective.session.accounts
    if readout.state != "ok":
        return Unknown(f"accounts not readable ({readout.state}: {readout.reason})")
    lacking = [
        {"user": a.user, "host": a.host, "ssl_type": a.ssl_type}
        for a in readout.remote
        if not a.ssl_type.strip() and a.host not in LOCAL_HOSTS
    ]
    if not lacking:
        return None
    return Raised(
        {
            "accounts": lacking,
            "transport_enforced": enforced.evidence(),
            "source": "live-variable",
            "at": iso_z(effective.checked_at),
        }
    )


def protocol_sslv3(effective: EffectiveFacts) -> Outcome:
    verdict = effective.protocol("SSLv3")
    if verdict.state == ACCEPTED:
        return Raised(observed(effective, accepted=["SSLv3"], suite=verdict.suite))
    if verdict.state == REJECTED:
        return None
    return _verdict_unknown(effective, "SSLv3")


def _allows_legacy(fact) -> list[str]:
    return [v for v in LEGACY_TLS_VERSIONS if fact.known and v in fact.value]


def protocol_legacy_tls(effective: EffectiveFacts) -> Outcome:
    accepted = [v for v in _LEGACY_TLS if effective.protocol(v).state == ACCEPTED]
    running = effective.running("tls_version")
    after_reboot = effective.api("tls_version")
    allowed = sorted(set(_allows_legacy(running)) | set(_allows_legacy(after_reboot)))
    if accepted or allowed:
        return Raised(
            {
                "accepted": accepted,
                "accepted_source": "live-wire" if accepted else None,
                "accepted_at": iso_z(effective.checked_at) if accepted else None,
                "allowed_by_tls_version": allowed,
                "tls_version_running": running.evidence(),
                "tls_version_after_reboot": after_reboot.evidence(),
            }
        )
    if all(effective.protocol(v).state == REJECTED for v in _LEGACY_TLS) or running.known:
        return None
    return Unknown(running.reason or _verdict_unknown(effective, "TLSv1.0").reason)


def protocol_no_tls13(effective: EffectiveFacts) -> Outcome:
    verdict = effective.protocol("TLSv1.3")
    if verdict.state == ACCEPTED:
        return None
    supported = effective.supports_tls13
    if supported is False:
        return None
    if supported is None:
        return Unknown("whether this engine can offer TLS 1.3 is not known")
    running = effective.running("tls_version")
    configured_without = running.known and "TLSv1.3" not in running.value
    if verdict.state == REJECTED or configured_without:
        return Raised(
            {
                "tls13": verdict.state,
                "tls13_source": "live-wire",
                "at": iso_z(effective.checked_at),
                "tls_version": running.evidence(),
                "engine": f"{effective.facts.engine} {effective.facts.engine_version}".strip(),
                "ssl_library": effective.session.variables.get("version_ssl_library"),
            }
        )
    if running.known:
        return None
    return Unknown(verdict.detail or running.reason)


def cipher_class_rule(cipher_class: str):
    """The rule for one probed cipher class (checker/evidence.py CIPHER_CLASSES)."""

    def rule(effective: EffectiveFacts) -> Outcome:
        verdict = effective.cipher_class(cipher_class)
        if verdict.state == ACCEPTED:
            suites = verdict.suites or ([verdict.suite] if verdict.suite else [])
            return Raised(observed(effective, cipher_class=cipher_class, accepted=suites))
        if verdict.state == REJECTED:
            return None
        return Unknown(verdict.detail or f"{cipher_class}: {verdict.state}")

    rule.__name__ = f"cipher_{cipher_class}"
    return rule


def cipher_policy_weakened(effective: EffectiveFacts) -> Outcome:
    if effective.facts.kind == "proxy":
        return None
    running = effective.running("ssl_cipher")
    after_reboot = effective.api("ssl_cipher")
    reasons = weakening_tokens(running.value if running.known else None)
    reasons += [r for r in weakening_tokens(after_reboot.value) if r not in reasons]
    if reasons:
        return Raised(
            {
                "reasons": reasons,
                "ssl_cipher_running": running.evidence(),
                "ssl_cipher_after_reboot": after_reboot.evidence(),
            }
        )
    stated = effective.facts.parameter("ssl_cipher")
    if running.known or running.absent or (stated and stated.raw_value is None):
        return None  # an unset ssl_cipher is the library default, which is not weakened
    return Unknown(running.reason)


def proxy_tls_not_required(effective: EffectiveFacts) -> Outcome:
    facts = effective.facts
    if facts.kind != "proxy":
        return None
    fact = effective.transport_enforced
    if not fact.known:
        return Unknown(fact.reason)
    if fact.value:
        return None
    return Raised({"require_tls": fact.evidence()})
