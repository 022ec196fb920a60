"""Rules about the connection itself: TLS offered and enforced, accounts, protocols, ciphers.

Pure: each rule takes a View (posture/effective.py) and returns an Outcome.
"""

from __future__ import annotations

from checker.evidence import ACCEPTED, REJECTED
from common.engines import LOCAL_HOSTS
from common.normalise import LEGACY_TLS_VERSIONS
from common.timeutil import iso_z
from posture.ciphers import weakening_tokens
from posture.effective import LIVE_LOGIN, View
from posture.outcomes import Outcome, Raised, Unknown, observed

_LEGACY_TLS = ("TLSv1.0", "TLSv1.1")


def _verdict_unknown(view: View, version_or_class: str) -> Unknown:
    verdict = view.protocol(version_or_class)
    return Unknown(verdict.detail or f"{version_or_class}: {verdict.state}")


def tls_unavailable(view: View) -> Outcome:
    fact = view.tls_available
    if not fact.known:
        return Unknown(fact.reason)
    if fact.value:
        return None
    evidence = {"tls_available": fact.evidence()}
    if view.facts.provider == "aliyun":
        evidence["ssl_enabled"] = view.facts.ssl_enabled
    return Raised(evidence)


def plaintext_login_accepted(view: View) -> Outcome:
    login = view.session.plaintext_login
    if view.check is not None and login.attempted and login.accepted is not None:
        if not login.accepted:
            return None
        if view.fresh or view.transport_enforced.value is not True:
            return Raised(
                {
                    "attempted": True,
                    "accepted": True,
                    "source": LIVE_LOGIN,
                    "at": iso_z(view.checked_at),
                    "stale": not view.fresh,
                }
            )
    if view.transport_enforced.value is True:
        return None  # an enforced server refuses it; nothing to test
    if view.check is None:
        return Unknown("never checked")
    if login.reason:
        # Tried and undecided ("canary refused: the server asked for dialog"), or set up
        # but unusable (its variable refused or unset): say why, not "not configured".
        return Unknown(f"plaintext-login canary: {login.reason}")
    return Unknown("the plaintext-login canary is not configured for this endpoint")


def transport_not_enforced(view: View) -> Outcome:
    if view.facts.kind == "proxy":
        return None  # proxy.tls_not_required says it for proxies
    fact = view.transport_enforced
    if not fact.known:
        return Unknown(fact.reason)
    if fact.value:
        return None
    evidence = {
        "transport_enforced": fact.evidence(),
        "require_secure_transport": {
            "running": view.running("require_secure_transport").evidence(),
            "after_reboot": view.api("require_secure_transport").evidence(),
        },
    }
    if view.facts.provider == "aliyun":
        evidence["force_encryption"] = view.force_encryption.evidence()
        evidence["ssl_enabled"] = view.facts.ssl_enabled
    return Raised(evidence)


def accounts_without_require_ssl(view: View) -> Outcome:
    if view.facts.kind == "proxy":
        return None
    enforced = view.transport_enforced
    if enforced.value is True:
        return None
    if not enforced.known:
        return Unknown(f"transport enforcement unknown: {enforced.reason}")
    if not view.session_ok:
        return Unknown(view.no_session_reason)
    readout = view.session.accounts
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
            "at": iso_z(view.checked_at),
        }
    )


def protocol_sslv3(view: View) -> Outcome:
    verdict = view.protocol("SSLv3")
    if verdict.state == ACCEPTED:
        return Raised(observed(view, accepted=["SSLv3"], suite=verdict.suite))
    if verdict.state == REJECTED:
        return None
    return _verdict_unknown(view, "SSLv3")


def _allows_legacy(fact) -> list[str]:
    return [v for v in LEGACY_TLS_VERSIONS if fact.known and v in fact.value]


def protocol_legacy_tls(view: View) -> Outcome:
    accepted = [v for v in _LEGACY_TLS if view.protocol(v).state == ACCEPTED]
    running = view.running("tls_version")
    after_reboot = view.api("tls_version")
    allowed = sorted(set(_allows_legacy(running)) | set(_allows_legacy(after_reboot)))
    if accepted or allowed:
        return Raised(
            {
                "accepted": accepted,
                "accepted_source": "live-wire" if accepted else None,
                "accepted_at": iso_z(view.checked_at) if accepted else None,
                "allowed_by_tls_version": allowed,
                "tls_version_running": running.evidence(),
                "tls_version_after_reboot": after_reboot.evidence(),
            }
        )
    if all(view.protocol(v).state == REJECTED for v in _LEGACY_TLS) or running.known:
        return None
    return Unknown(running.reason or _verdict_unknown(view, "TLSv1.0").reason)


def protocol_no_tls13(view: View) -> Outcome:
    verdict = view.protocol("TLSv1.3")
    if verdict.state == ACCEPTED:
        return None
    supported = view.supports_tls13
    if supported is False:
        return None
    if supported is None:
        return Unknown("whether this engine can offer TLS 1.3 is not known")
    running = view.running("tls_version")
    configured_without = running.known and "TLSv1.3" not in running.value
    if verdict.state == REJECTED or configured_without:
        return Raised(
            {
                "tls13": verdict.state,
                "tls13_source": "live-wire",
                "at": iso_z(view.checked_at),
                "tls_version": running.evidence(),
                "engine": f"{view.facts.engine} {view.facts.engine_version}".strip(),
                "ssl_library": view.session.variables.get("version_ssl_library"),
            }
        )
    if running.known:
        return None
    return Unknown(verdict.detail or running.reason)


def cipher_class_rule(cipher_class: str):
    """The rule for one probed cipher class (checker/evidence.py CIPHER_CLASSES)."""

    def rule(view: View) -> Outcome:
        verdict = view.cipher_class(cipher_class)
        if verdict.state == ACCEPTED:
            suites = verdict.suites or ([verdict.suite] if verdict.suite else [])
            return Raised(observed(view, cipher_class=cipher_class, accepted=suites))
        if verdict.state == REJECTED:
            return None
        return Unknown(verdict.detail or f"{cipher_class}: {verdict.state}")

    rule.__name__ = f"cipher_{cipher_class}"
    return rule


def cipher_policy_weakened(view: View) -> Outcome:
    if view.facts.kind == "proxy":
        return None
    running = view.running("ssl_cipher")
    after_reboot = view.api("ssl_cipher")
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
    stated = view.facts.parameter("ssl_cipher")
    if running.known or running.absent or (stated and stated.raw_value is None):
        return None  # an unset ssl_cipher is the library default, which is not weakened
    return Unknown(running.reason)


def proxy_tls_not_required(view: View) -> Outcome:
    facts = view.facts
    if facts.kind != "proxy":
        return None
    fact = view.transport_enforced
    if not fact.known:
        return Unknown(fact.reason)
    if fact.value:
        return None
    return Raised({"require_tls": fact.evidence()})
