"""One check of one endpoint: probe, optional canary, then the verified session.

Runs in a worker thread with everything resolved beforehand (services.py plans in the
calling thread): no Django model, no database. The order matters: the authenticated
login comes last because a successful login resets MySQL's per-host count of aborted
handshakes (max_connect_errors), which the probe just raised.

Pure module: no Django imports.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from checker.deadline import Deadline
from checker.evidence import (
    ACCEPTED,
    SESSION_AUTH_FAILED,
    SESSION_ERROR,
    SESSION_OK,
    SESSION_TLS_FAILED,
    Evidence,
)
from checker.probe import ProbeLimits, probe_endpoint
from checker.secret import Login
from checker.session import SessionLimits, read_session, try_plaintext_login

STATUS_OK = "ok"
STATUS_UNREACHABLE = "unreachable"
STATUS_TLS_FAILED = "tls-failed"
STATUS_AUTH_FAILED = "auth-failed"


@dataclass(frozen=True)
class Endpoint:
    """What to check and how; `verify_name` is what TLS must prove, wherever we dial."""

    instance_id: int
    label: str  # account/identifier, for progress and logs
    dial_host: str
    dial_port: int
    verify_name: str
    cafile: str = ""
    cafile_source: str = ""
    profile: str = ""
    login: Login | None = field(default=None, repr=False)
    login_source: str = ""
    login_error: str = ""
    canary: Login | None = field(default=None, repr=False)
    canary_error: str = ""

    @property
    def dialed(self) -> str:
        return f"{self.dial_host}:{self.dial_port}"


@dataclass(frozen=True)
class CheckLimits:
    probe: ProbeLimits = field(default_factory=ProbeLimits)
    session: SessionLimits = field(default_factory=SessionLimits)
    target_deadline: float = 60.0


@dataclass
class EndpointResult:
    instance_id: int
    status: str
    reason: str
    evidence: Evidence
    checked_at: datetime
    duration_ms: int


def check_endpoint(endpoint: Endpoint, limits: CheckLimits) -> EndpointResult:
    checked_at = datetime.now(UTC)
    started = time.monotonic()
    deadline = Deadline(limits.target_deadline)
    evidence = Evidence(
        dialed=endpoint.dialed,
        verified_name=endpoint.verify_name,
        trust_bundle=endpoint.cafile,
        trust_bundle_source=endpoint.cafile_source,
        profile=endpoint.profile,
        credential_source=endpoint.login_source,
    )
    address, problem = _resolve(endpoint, deadline.timeout(limits.probe.connect_timeout))
    if address is None:
        evidence.probe.error = problem
    else:
        evidence.dialed_address = f"{address[0]}:{address[1]}"
        _check(endpoint, address, evidence, limits, deadline)
    status, reason = decide_status(evidence, endpoint)
    return EndpointResult(
        instance_id=endpoint.instance_id,
        status=status,
        reason=reason,
        evidence=evidence,
        checked_at=checked_at,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def _resolve(endpoint: Endpoint, timeout: float) -> tuple[tuple[str, int] | None, str]:
    """One address for every connection of this check: a round-robin DNS name (an Aurora
    reader endpoint) would otherwise spread one check over several servers.

    getaddrinfo cannot be interrupted, so it runs in a daemon thread that is abandoned
    when the resolver does not answer in time: a hung DNS server costs this target its
    deadline, never the run.
    """
    answer: dict = {}

    def lookup():
        try:
            answer["infos"] = socket.getaddrinfo(
                endpoint.dial_host, endpoint.dial_port, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError) as exc:
            answer["error"] = getattr(exc, "strerror", None) or str(exc)

    resolver = threading.Thread(target=lookup, name="resolve", daemon=True)
    resolver.start()
    resolver.join(timeout)
    if resolver.is_alive():
        return None, f"cannot resolve {endpoint.dial_host}: no DNS answer within {timeout:.1f}s"
    if "error" in answer:
        return None, f"cannot resolve {endpoint.dial_host}: {answer['error']}"
    family_sorted = sorted(answer["infos"], key=lambda info: info[0] != socket.AF_INET)
    host, port = family_sorted[0][4][:2]
    return (host, port), ""


def _check(endpoint, address, evidence: Evidence, limits: CheckLimits, deadline: Deadline):
    probe = probe_endpoint(
        address,
        endpoint.verify_name,
        cafile=endpoint.cafile or None,
        limits=limits.probe,
        deadline=deadline,
    )
    evidence.probe = probe
    if not probe.reached or probe.error_code is not None:
        return
    if endpoint.canary is not None:
        evidence.session.plaintext_login = try_plaintext_login(
            address, login=endpoint.canary, limits=limits.session, deadline=deadline
        )
    elif endpoint.canary_error:
        evidence.session.plaintext_login.reason = endpoint.canary_error
    if endpoint.login is None:
        evidence.session.reason = endpoint.login_error or "no checker credentials configured"
        return
    unverified = _verification_problems(evidence)
    if unverified:
        evidence.session.reason = f"credentials not sent: {unverified}"
        return
    plaintext = evidence.session.plaintext_login
    session = read_session(
        address,
        endpoint.verify_name,
        cafile=endpoint.cafile or None,
        login=endpoint.login,
        limits=limits.session,
        deadline=deadline,
        # A canary connection still closing is the check's own, not a client's.
        other_own_users=(endpoint.canary.username,) if endpoint.canary is not None else (),
    )
    session.plaintext_login = plaintext
    # The canary's connection (before the counters were read) is the check's own, not a client's.
    session.clients.own_plaintext = 1 if plaintext.attempted else 0
    evidence.session = session


def _verification_problems(evidence: Evidence) -> str:
    probe = evidence.probe
    if probe.tls_offered is False:
        return "the server offers no TLS"
    if not any(v.state == ACCEPTED for v in probe.protocols.values()):
        return f"no TLS version was accepted ({probe.error})"
    problems = []
    if probe.trust.ok is False:
        problems.append(f"chain not trusted ({probe.trust.reason})")
    if probe.hostname.ok is False:
        problems.append(f"hostname not verified ({probe.hostname.reason})")
    return "; ".join(problems)


def decide_status(evidence: Evidence, endpoint: Endpoint) -> tuple[str, str]:
    """Observation.status and reason: could the checker do its job, and if not, why."""
    probe, session = evidence.probe, evidence.session
    if not probe.reached or probe.error_code is not None:
        return STATUS_UNREACHABLE, probe.error or "no answer"
    if probe.tls_offered is False:
        return STATUS_TLS_FAILED, "server offers no TLS (no CLIENT_SSL in the greeting)"
    if session.outcome == SESSION_OK:
        return STATUS_OK, session.reason
    if session.outcome == SESSION_AUTH_FAILED:
        return STATUS_AUTH_FAILED, session.reason
    if session.outcome == SESSION_TLS_FAILED:
        return STATUS_TLS_FAILED, session.reason
    if session.outcome == SESSION_ERROR:
        return STATUS_UNREACHABLE, f"session: {session.reason}"
    unverified = _verification_problems(evidence)
    if unverified:
        return STATUS_TLS_FAILED, unverified
    if probe.error:
        return STATUS_TLS_FAILED, probe.error
    if endpoint.login_error:
        return STATUS_AUTH_FAILED, endpoint.login_error
    if endpoint.login is not None:  # skipped although credentials exist: no usable bundle
        return STATUS_TLS_FAILED, session.reason
    return STATUS_OK, "probe only: no checker credentials configured"
