"""Who still connects without TLS or on TLS 1.0/1.1, and whether switching them off is safe.

docs/design.md "Client readiness". The checker names each client connection it saw
(performance_schema) or, with performance_schema off, counts the connections without TLS
between two checks (global counters). Only evidence within Policy.client_window
(TLSPOSTURE_CLIENT_WINDOW_DAYS) before `now` counts. No evidence in the window is unknown,
never "safe".

Pure: an EffectiveFacts in, plain data out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from common.timeutil import iso_z
from posture.effective import EffectiveFacts
from posture.facts import ClientCheck, ClientSeen
from posture.outcomes import Outcome, Raised, Unknown
from posture.rules_connection import protocol_legacy_tls

# Ssl_version as servers print it (MariaDB says "TLSv1" for TLS 1.0).
LEGACY_CLIENT_VERSIONS = frozenset({"SSLv3", "TLSv1", "TLSv1.0", "TLSv1.1"})
_LISTED = 10

READY, NOT_READY, UNKNOWN, DONE = "ready", "not-ready", "unknown", "done"
READINESS_STATES = (READY, NOT_READY, UNKNOWN, DONE)


@dataclass(frozen=True)
class ClientWindow:
    """The client evidence within the window before `now`."""

    days: int
    checks: tuple[ClientCheck, ...]  # newest first
    sightings: tuple[ClientSeen, ...]

    @property
    def named_checks(self) -> list[ClientCheck]:
        return [c for c in self.checks if c.state == "ok"]

    @property
    def counted_checks(self) -> list[ClientCheck]:
        """Checks that could not name clients but counted them against the previous check."""
        return [c for c in self.checks if c.state != "ok" and c.counted_without_tls is not None]

    @property
    def usable_checks(self) -> list[ClientCheck]:
        return self.named_checks + self.counted_checks

    @property
    def plaintext(self) -> list[ClientSeen]:
        return _latest_first(s for s in self.sightings if not s.tls_version)

    @property
    def legacy(self) -> list[ClientSeen]:
        return _latest_first(s for s in self.sightings if s.tls_version in LEGACY_CLIENT_VERSIONS)

    @property
    def counted_without_tls(self) -> int:
        return sum(c.counted_without_tls or 0 for c in self.counted_checks)

    def why_unknown(self, *, named_only: bool = False) -> str:
        """Why the window holds no usable evidence, in the checker's own words."""
        if not self.checks:
            return (
                f"no check logged in and read the client connections within {self.days} days "
                "(TLSPOSTURE_CLIENT_WINDOW_DAYS)"
            )
        latest = self.checks[0]
        if named_only:
            return f"the clients' TLS versions are not known: {latest.reason or latest.state}"
        return (
            f"{latest.reason or latest.state}; the counters need two checks to compare "
            "(the first has nothing to compare with)"
        )


def _latest_first(sightings) -> list[ClientSeen]:
    return sorted(sightings, key=lambda s: (-s.last_seen.timestamp(), s.user, s.host))


def client_window(effective: EffectiveFacts) -> ClientWindow:
    window = effective.policy.client_window
    since = effective.now - window
    clients = effective.facts.clients
    return ClientWindow(
        days=round(window / timedelta(days=1)),
        checks=tuple(c for c in clients.checks if since <= c.checked_at <= effective.now),
        sightings=tuple(s for s in clients.sightings if s.last_seen >= since),
    )


def ago(then: datetime, now: datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 3600:
        return f"{max(1, seconds // 60)} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def span(checks: list[ClientCheck], now: datetime) -> str:
    """ "4 checks over 12 days": how much evidence a verdict rests on."""
    oldest = min(c.checked_at for c in checks)
    seconds = (now - oldest).total_seconds()
    if seconds >= 1.5 * 86400:
        over = _plural(round(seconds / 86400), "day")
    elif seconds >= 5400:
        over = _plural(round(seconds / 3600), "hour")
    else:  # a first check just now: say how little it is
        over = _plural(max(1, round(seconds / 60)), "minute")
    return f"{_plural(len(checks), 'check')} over {over}"


def _client_rows(sightings: list[ClientSeen]) -> list[dict]:
    return [
        {
            "client": s.name,
            "user": s.user,
            "host": s.host,
            "tls_version": s.tls_version or None,
            "connections": s.connections,
            "checks": s.checks,
            "first_seen": iso_z(s.first_seen),
            "last_seen": iso_z(s.last_seen),
        }
        for s in sightings
    ]


def _names(sightings: list[ClientSeen], now: datetime) -> str:
    shown = [f"{s.name} (last seen {ago(s.last_seen, now)})" for s in sightings[:_LISTED]]
    if len(sightings) > _LISTED:
        shown.append(f"and {len(sightings) - _LISTED} more")
    return ", ".join(shown)


# ---- the two findings ----------------------------------------------------------------------


def clients_plaintext_observed(effective: EffectiveFacts) -> Outcome:
    if effective.facts.kind == "proxy":
        return None  # a proxy's clients are not in its targets' performance_schema
    window = client_window(effective)
    plaintext, counted = window.plaintext, window.counted_without_tls
    if plaintext or counted:
        evidence = {
            "clients": _client_rows(plaintext),
            "window_days": window.days,
            "source": "performance_schema" if plaintext else "global-counters",
            "at": iso_z(window.checks[0].checked_at) if window.checks else None,
        }
        if counted:
            evidence["counted_without_tls"] = counted
            evidence["counted_in_checks"] = len(window.counted_checks)
            evidence["counted_note"] = (
                "counted between checks from Connections less Ssl_accepts, without names "
                "(local socket connections are counted too)"
            )
        return Raised(evidence)
    if not window.usable_checks:
        return Unknown(window.why_unknown())
    return None


def clients_legacy_tls_observed(effective: EffectiveFacts) -> Outcome:
    if effective.facts.kind == "proxy":
        return None
    window = client_window(effective)
    if window.legacy:
        return Raised(
            {
                "clients": _client_rows(window.legacy),
                "window_days": window.days,
                "source": "performance_schema",
                "at": iso_z(window.checks[0].checked_at) if window.checks else None,
            }
        )
    if not window.named_checks:
        return Unknown(window.why_unknown(named_only=True))
    return None


# ---- readiness verdicts --------------------------------------------------------------------


@dataclass(frozen=True)
class Readiness:
    state: str  # ready | not-ready | unknown | done
    verdict: str


def enforce_tls_readiness(effective: EffectiveFacts) -> Readiness:
    if effective.facts.kind == "proxy":
        return Readiness(UNKNOWN, "unknown: a proxy's clients are not read")
    if effective.transport_enforced.value is True:
        return Readiness(DONE, "TLS is already enforced")
    window = client_window(effective)
    plaintext, counted = window.plaintext, window.counted_without_tls
    if plaintext or counted:
        parts = [_names(plaintext, effective.now)] if plaintext else []
        if counted:
            parts.append(
                f"{_plural(counted, 'connection')} without TLS counted in "
                f"{_plural(len(window.counted_checks), 'check')}, not named (performance_schema)"
            )
        return Readiness(NOT_READY, "would break: " + ", ".join(parts))
    usable = window.usable_checks
    if not usable:
        return Readiness(UNKNOWN, f"unknown: {window.why_unknown()}")
    how = "" if window.named_checks else " (counted, not named: performance_schema is off)"
    return Readiness(
        READY, f"safe to enforce TLS: no plaintext client in {span(usable, effective.now)}{how}"
    )


def drop_legacy_tls_readiness(effective: EffectiveFacts) -> Readiness:
    if effective.facts.kind == "proxy":
        return Readiness(UNKNOWN, "unknown: a proxy's clients are not read")
    if protocol_legacy_tls(effective) is None:  # refused, and not allowed
        return Readiness(DONE, "TLS 1.0/1.1 are already refused")
    window = client_window(effective)
    if window.legacy:
        return Readiness(NOT_READY, "would break: " + _names(window.legacy, effective.now))
    named = window.named_checks
    if not named:
        return Readiness(UNKNOWN, f"unknown: {window.why_unknown(named_only=True)}")
    return Readiness(
        READY, f"safe to drop TLS 1.0/1.1: no client on TLS 1.0/1.1 in {span(named, effective.now)}"
    )


# ---- who a fix plan would cut off ----------------------------------------------------------

# Fixes that refuse plaintext connections, and fixes that refuse TLS 1.0/1.1 (or SSLv3).
ENFORCING_FIXES = frozenset(
    {
        "transport.not_enforced",
        "transport.plaintext_login_accepted",
        "accounts.without_require_ssl",
        "proxy.tls_not_required",
    }
)
LEGACY_DROPPING_FIXES = frozenset({"protocol.legacy_tls", "protocol.sslv3"})


@dataclass(frozen=True)
class WouldFail:
    clients: list[str] | None  # None: unknown, never "none would fail"
    text: str


def clients_that_would_fail(effective: EffectiveFacts, fixes) -> WouldFail:
    """The clients seen within the window that the fixes (finding ids) would cut off: the
    readiness verdicts' evidence, read for the changes the plan actually makes."""
    fixes = set(fixes)
    enforces, drops = bool(fixes & ENFORCING_FIXES), bool(fixes & LEGACY_DROPPING_FIXES)
    if not (enforces or drops):
        return WouldFail([], "none: the plan neither enforces TLS nor refuses TLS 1.0/1.1")
    if effective.facts.kind == "proxy":
        return WouldFail(None, "unknown: a proxy's clients are not read")
    window = client_window(effective)
    now = effective.now
    names: list[str] = []
    unknown: list[str] = []
    if enforces:
        names += [
            f"{s.name} without TLS (last seen {ago(s.last_seen, now)})" for s in window.plaintext
        ]
        counted = window.counted_without_tls
        if counted:
            names.append(
                f"{_plural(counted, 'connection')} without TLS counted in "
                f"{_plural(len(window.counted_checks), 'check')}, not named (performance_schema)"
            )
        elif not window.plaintext and not window.usable_checks:
            unknown.append(window.why_unknown())
    if drops:
        names += [
            f"{s.name} on {s.tls_version} (last seen {ago(s.last_seen, now)})"
            for s in window.legacy
        ]
        if not window.legacy and not window.named_checks:
            unknown.append(window.why_unknown(named_only=True))
    if names:
        shown = names[:_LISTED] + (
            [f"and {len(names) - _LISTED} more"] if len(names) > _LISTED else []
        )
        text = ", ".join(shown)
        if unknown:  # some would fail; whether more would is not known
            text += "; and unknown: " + "; ".join(unknown)
        return WouldFail(names, text)
    if unknown:
        return WouldFail(None, "unknown: " + "; ".join(unknown))
    checks = window.named_checks if drops else window.usable_checks
    return WouldFail([], f"none seen in {span(checks, now)}")
