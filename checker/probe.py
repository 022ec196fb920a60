"""The credential-less probe: what the wire shows about one endpoint (docs/design.md
"Checker rules" 2).

Each question costs one connection: MySQL greeting, SSLRequest, one TLS handshake.
Protocol versions and cipher classes are asked with hand-built ClientHellos (tls_hello),
so the answers do not depend on what the local OpenSSL can still negotiate; the trust
verdict comes from a real OpenSSL handshake configured like the authenticated session
(VERIFY_IDENTITY without the name check), so the probe predicts what the session sees.
The hostname is judged separately on the leaf.

Budget: at most `max_handshakes` TLS attempts and one deadline per target. The order puts
what matters most first, so a small budget loses the least: TLS 1.2 (with the chain in
clear), TLS 1.3, the trust handshake, the legacy versions, then the cipher classes.
No credentials are ever sent, so unverified handshakes are allowed here, and only here.

Pure module: no Django imports. Never raises for anything a server does.
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from dataclasses import dataclass

from checker import mysql_wire
from checker.certificates import certificate_info, describe_der, hostname_verdict, load
from checker.cipher_suites import class_suites, default_offer, suite_name
from checker.deadline import Deadline, DeadlineReached
from checker.evidence import (
    ACCEPTED,
    CIPHER_CLASSES,
    ERROR,
    PROTOCOL_VERSIONS,
    REJECTED,
    UNTESTED,
    ProbeEvidence,
    Verdict,
    Verification,
)
from checker.mysql_wire import ServerError, WireError
from checker.tls_hello import (
    REFUSING_ALERTS,
    VERSION_CODES,
    TLSAnswerError,
    client_hello,
    read_server_answer,
)
from common.engines import TLS13_SUITES
from common.tls import verify_identity_context

log = logging.getLogger(__name__)

LEGACY_VERSIONS = ("TLSv1.1", "TLSv1.0", "SSLv3")


@dataclass(frozen=True)
class ProbeLimits:
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    max_handshakes: int = 12
    # After this many handshakes that timed out, the server is stalling: stop asking.
    stalls_tolerated: int = 2


class _Stop(Exception):
    """Nothing more can be asked of this endpoint; the message says why."""


class _Budget(Exception):
    """This question is not asked (budget or deadline); the message says why."""


def probe_endpoint(
    address: tuple[str, int],
    verify_name: str,
    *,
    cafile: str | None,
    limits: ProbeLimits,
    deadline: Deadline,
) -> ProbeEvidence:
    """Probe `address` (the dialed ip/host and port) as the endpoint `verify_name`."""
    probe = _Probe(address, verify_name, cafile, limits, deadline)
    started = time.monotonic()
    try:
        probe.run()
    except _Stop as stop:
        probe.evidence.error = probe.evidence.error or str(stop)
        probe.leave_untested(str(stop))
    except Exception as exc:  # a checker bug must not cost the run, but it must show
        log.exception("probe of %s:%s failed", *address)
        probe.evidence.error = f"probe failed unexpectedly: {type(exc).__name__}"
        probe.leave_untested(probe.evidence.error)
    try:
        probe.finish()
    except Exception as exc:  # describing what was seen must never lose what was seen
        log.exception("describing the probe of %s:%s failed", *address)
        probe.evidence.error = probe.evidence.error or (
            f"describing the probe failed unexpectedly: {type(exc).__name__}"
        )
    probe.evidence.handshakes = probe.handshakes
    probe.evidence.elapsed_ms = int((time.monotonic() - started) * 1000)
    return probe.evidence


class _Probe:
    def __init__(self, address, verify_name, cafile, limits: ProbeLimits, deadline: Deadline):
        self.address = address
        self.verify_name = verify_name
        self.cafile = cafile
        self.limits = limits
        self.deadline = deadline
        self.handshakes = 0
        self.stalls = 0
        self.greeted = False
        self.chain: list[bytes] = []  # DER, leaf first, from a Certificate message in clear
        self.chain_version = ""  # the version of the handshake that showed it
        self.leaf: bytes | None = None  # from an OpenSSL handshake, when no chain was seen
        self.evidence = ProbeEvidence(
            protocols={v: Verdict() for v in PROTOCOL_VERSIONS},
            cipher_classes={c: Verdict() for c in CIPHER_CLASSES},
        )

    # -- the plan -------------------------------------------------------------------------

    def run(self) -> None:
        self.ask_version("TLSv1.2")
        self.ask_version("TLSv1.3")
        self.judge_trust(legacy=False)
        for version in LEGACY_VERSIONS:
            self.ask_version(version)
        self.ask_cipher_classes()
        if self.evidence.trust.ok is None and self.highest_legacy() and self.cafile:
            self.judge_trust(legacy=True)

    def finish(self) -> None:
        """Describe what was seen, also when the probe stopped early."""
        self.describe_certificates()
        evidence = self.evidence
        if evidence.trust.ok is None and not evidence.trust.reason:
            evidence.trust.reason = evidence.error or "no certificate observed"
        verdicts = evidence.protocols.values()
        if evidence.tls_offered and not any(v.state == ACCEPTED for v in verdicts):
            if all(v.state == REJECTED for v in verdicts):
                evidence.error = evidence.error or "TLS offered, but every version was refused"
            else:
                evidence.error = evidence.error or "TLS offered, but no handshake got an answer"

    def accepted(self, version: str) -> bool:
        return self.evidence.protocols[version].state == ACCEPTED

    def highest_legacy(self) -> str | None:
        """The highest accepted version below TLS 1.3, where cipher classes are asked."""
        for version in ("TLSv1.2", "TLSv1.1", "TLSv1.0", "SSLv3"):
            if self.accepted(version):
                return version
        return None

    def leave_untested(self, reason: str) -> None:
        verdicts = [*self.evidence.protocols.values(), *self.evidence.cipher_classes.values()]
        for verdict in verdicts:
            if verdict.state == UNTESTED and not verdict.detail:
                verdict.detail = reason

    # -- questions ------------------------------------------------------------------------

    def ask_version(self, version: str) -> None:
        suites = tuple(TLS13_SUITES) if version == "TLSv1.3" else default_offer()
        verdict = self.evidence.protocols[version]
        answer = self.ask(verdict, version, suites, want_certificates=not self.chain)
        if answer is None:
            return
        if answer.certificates and not self.chain:
            self.chain, self.chain_version = answer.certificates, answer.version
        if answer.version == version:
            verdict.state, verdict.suite = ACCEPTED, suite_name(answer.suite)
            verdict.suites = [verdict.suite]
            if answer.hello_retry:
                verdict.detail = "server asked for another key share (HelloRetryRequest)"
        elif VERSION_CODES[answer.version] < VERSION_CODES[version]:
            verdict.state, verdict.detail = REJECTED, f"server chose {answer.version} instead"
        else:
            verdict.state = ERROR
            verdict.detail = f"server answered {answer.version} to a {version} ClientHello"

    def ask_cipher_classes(self) -> None:
        version = self.highest_legacy()
        for name in CIPHER_CLASSES:
            verdict = self.evidence.cipher_classes[name]
            if version is None:
                if self.accepted("TLSv1.3"):
                    verdict.state = REJECTED
                    verdict.detail = (
                        "only TLS 1.3 is accepted, and all its suites are AEAD with forward secrecy"
                    )
                elif not verdict.detail:
                    verdict.detail = "no TLS version was accepted"
                continue
            answer = self.ask(verdict, version, class_suites(name), want_certificates=False)
            if answer is None:
                continue
            verdict.state, verdict.suite = ACCEPTED, suite_name(answer.suite)
            verdict.suites = [verdict.suite]
            verdict.detail = f"asked with {version}; server chose {answer.version}"

    def ask(self, verdict: Verdict, version: str, suites, *, want_certificates: bool):
        """One handshake with a hand-built ClientHello. Returns the ServerAnswer when the
        server chose a version and an offered suite; otherwise fills `verdict` and
        returns None."""
        try:
            sock = self.open_tls()
        except _Budget as skipped:
            verdict.detail = str(skipped)
            return None
        except WireError as exc:  # before any ClientHello: no answer to the question
            self.note_failure(verdict, exc, hello_sent=False)
            return None
        try:
            sock.sendall(client_hello(version, suites, self.verify_name))
            answer = read_server_answer(self.receiver(sock), want_certificates=want_certificates)
        except WireError as exc:
            self.note_failure(verdict, exc, hello_sent=True)
            return None
        except TLSAnswerError as exc:
            verdict.state, verdict.detail = ERROR, str(exc)
            return None
        except OSError as exc:
            verdict.state, verdict.detail = ERROR, f"connection failed: {exc.strerror or exc}"
            return None
        finally:
            sock.close()
        if answer.alert is not None:
            refused = answer.alert in REFUSING_ALERTS
            verdict.state = REJECTED if refused else ERROR
            verdict.detail = f"{answer.alert_name} alert"
            return None
        if answer.suite not in suites:
            verdict.state = ERROR
            verdict.detail = f"server chose {suite_name(answer.suite)}, which was not offered"
            return None
        return answer

    def note_failure(self, verdict: Verdict, exc: WireError, *, hello_sent: bool) -> None:
        if exc.kind == mysql_wire.CLOSED and hello_sent:
            # Closing on a ClientHello is how some TLS stacks (yaSSL, wolfSSL) decline.
            verdict.state = REJECTED
            verdict.detail = "server closed the connection instead of answering"
            return
        verdict.state, verdict.detail = ERROR, exc.reason
        if exc.kind == mysql_wire.TIMEOUT:
            self.stalls += 1

    # -- connections ----------------------------------------------------------------------

    def open_tls(self) -> socket.socket:
        """A fresh connection, greeted and switched to TLS by SSLRequest, ready for a
        ClientHello. Counts the handshake about to happen against the budget."""
        if self.handshakes >= self.limits.max_handshakes:
            raise _Budget(f"handshake budget of {self.limits.max_handshakes} spent")
        if self.stalls >= self.limits.stalls_tolerated:
            raise _Budget("not asked: the server stalled on earlier handshakes")
        if self.deadline.expired:
            raise _Budget(f"not asked: deadline of {self.deadline.seconds:g} s reached")
        try:
            sock = mysql_wire.connect(self.address, self.deadline, self.limits.connect_timeout)
        except DeadlineReached as exc:
            raise _Budget(f"not asked: {exc}") from None
        except WireError as exc:
            if not self.greeted:
                raise _Stop(exc.reason) from None
            raise
        try:
            greeting = mysql_wire.read_greeting(sock, self.deadline, self.limits.read_timeout)
            self.note_greeting(greeting)
            sock.sendall(mysql_wire.ssl_request())
        except DeadlineReached as exc:
            sock.close()
            raise _Budget(f"not asked: {exc}") from None
        except WireError as exc:
            sock.close()
            if not self.greeted:
                raise _Stop(exc.reason) from None
            raise
        except BaseException:
            sock.close()
            raise
        self.handshakes += 1
        return sock

    def note_greeting(self, greeting) -> None:
        evidence = self.evidence
        if isinstance(greeting, ServerError):
            if not self.greeted:
                evidence.reached, evidence.error_code = True, greeting.code
            # Refusals mid-probe (1129 after too many aborted handshakes) end it too.
            raise _Stop(greeting.describe())
        if not self.greeted:
            self.greeted = True
            evidence.reached = True
            evidence.server_version = greeting.server_version
            evidence.flavour = greeting.flavour
            evidence.capabilities = greeting.capabilities
            evidence.tls_offered = greeting.tls_offered
        if not greeting.tls_offered:
            raise _Stop("server offers no TLS (no CLIENT_SSL in the greeting)")

    def receiver(self, sock: socket.socket):
        def recv(size: int) -> bytes:
            try:
                return mysql_wire.recv_exact(sock, size, self.deadline, self.limits.read_timeout)
            except DeadlineReached as exc:
                raise WireError(mysql_wire.TIMEOUT, str(exc)) from None

        return recv

    # -- certificates ---------------------------------------------------------------------

    def judge_trust(self, *, legacy: bool) -> None:
        """Trust verdict from an OpenSSL handshake against the bundle (no name check).

        `legacy`: the server speaks nothing from TLS 1.2 on, so the session-like context
        cannot even connect; lower the protocol floor and security level, and judge key
        and signature strength here instead of OpenSSL.
        """
        trust = self.evidence.trust
        modern = self.accepted("TLSv1.2") or self.accepted("TLSv1.3")
        if not self.cafile:
            trust.reason = "no trust bundle configured"
        elif not legacy and not modern:
            trust.reason = "not judged: the server accepts neither TLS 1.2 nor TLS 1.3"
        else:
            self.trust_handshake(trust, legacy)
        # Below TLS 1.3 the chain came in clear; a TLS 1.3-only server shows nothing
        # unless a handshake completes.
        if not (self.chain or self.leaf) and self.accepted("TLSv1.3"):
            self.leaf_handshake()

    def trust_handshake(self, trust: Verification, legacy: bool) -> None:
        try:
            context = verify_identity_context(self.verify_name, cafile=self.cafile)
        except (OSError, ssl.SSLError) as exc:
            trust.reason = f"trust bundle cannot be used: {getattr(exc, 'strerror', '') or exc}"
            return
        context.check_hostname = False  # the hostname gets its own verdict
        if legacy:
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.set_ciphers("ALL:@SECLEVEL=0")
        try:
            leaf = self.openssl_handshake(context)
        except ssl.SSLCertVerificationError as exc:
            trust.ok, trust.reason = False, exc.verify_message or str(exc)
            return
        except _Budget as skipped:
            trust.reason = str(skipped)
            return
        except (ssl.SSLError, WireError, OSError) as exc:
            trust.reason = f"not judged: the trust handshake failed ({_ssl_reason(exc)})"
            return
        self.leaf = self.leaf or leaf
        trust.ok, trust.reason = True, "chain verifies against the trust bundle"
        if legacy:
            weak = _too_weak_for_default_security(self.chain or [leaf])
            if weak:
                trust.ok, trust.reason = False, weak
            else:
                trust.reason += " (judged at TLS < 1.2, the only versions the server speaks)"

    def leaf_handshake(self) -> None:
        """TLS 1.3 hides the Certificate message: one unverified handshake shows the leaf."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            self.leaf = self.openssl_handshake(context)
        except (_Budget, ssl.SSLError, WireError, OSError) as exc:
            self.evidence.chain_note = f"no certificate seen: {_ssl_reason(exc)}"

    def openssl_handshake(self, context: ssl.SSLContext) -> bytes:
        sock = self.open_tls()
        try:
            tls = context.wrap_socket(
                sock, server_hostname=self.verify_name, do_handshake_on_connect=False
            )
        except BaseException:
            sock.close()
            raise
        with tls:
            try:
                tls.settimeout(self.deadline.timeout(self.limits.read_timeout))
                tls.do_handshake()
            except DeadlineReached as exc:
                raise _Budget(f"not asked: {exc}") from None
            except TimeoutError:
                self.stalls += 1
                raise WireError(mysql_wire.TIMEOUT, "TLS handshake timed out") from None
            return tls.getpeercert(binary_form=True)

    def describe_certificates(self) -> None:
        evidence = self.evidence
        ders = self.chain or ([self.leaf] if self.leaf else [])
        # Each certificate under its own guard (certificates.describe_der): one that does
        # not decode is a note on it, with its fingerprint, and the others stand.
        evidence.chain = [describe_der(der) for der in ders]
        if self.chain:
            evidence.intermediates_observed = True
            evidence.chain_note = evidence.chain_note or (
                f"as sent in a {self.chain_version} Certificate message "
                f"({len(self.chain)} certificate{'s' if len(self.chain) != 1 else ''})"
            )
        elif self.leaf:
            evidence.intermediates_observed = False
            evidence.chain_note = evidence.chain_note or (
                "leaf only: TLS 1.3 encrypts the Certificate message, intermediates "
                "were not observable"
            )
        unreadable = [f"#{n + 1}" for n, info in enumerate(evidence.chain) if info.note]
        if unreadable:
            evidence.chain_note += (
                f"; certificate {', '.join(unreadable)} not fully decoded (see its note)"
            )
        if not ders:
            evidence.hostname.reason = "no certificate observed"
            return
        try:
            evidence.hostname = hostname_verdict(load(ders[0]), self.verify_name)
        except Exception as exc:  # a leaf whose names do not decode names nothing we trust
            evidence.hostname.ok = False
            evidence.hostname.reason = (
                f"the certificate's names could not be decoded ({type(exc).__name__}), so it "
                f"does not verifiably name {self.verify_name}"
            )


def _ssl_reason(exc: BaseException) -> str:
    if isinstance(exc, WireError):
        return exc.reason
    if isinstance(exc, ssl.SSLError):
        return exc.reason or exc.strerror or str(exc)
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


def _too_weak_for_default_security(ders: list[bytes]) -> str:
    """What OpenSSL's default security level would refuse in this chain (RSA/DSA below
    2048 bits, EC below 224, SHA-1 or MD5 signatures below the root)."""
    for position, der in enumerate(ders):
        try:
            info = certificate_info(load(der))
        except ValueError:
            continue
        where = "leaf" if position == 0 else f"certificate #{position + 1}"
        if info.key_type in ("RSA", "DSA") and (info.key_bits or 0) < 2048:
            return f"{where} key too weak ({info.key_type} {info.key_bits} bits)"
        if info.key_type == "EC" and (info.key_bits or 0) < 224:
            return f"{where} key too weak (EC {info.key_bits} bits)"
        if info.signature_hash in ("sha1", "md5") and not info.self_signed:
            return f"{where} signed with {info.signature_hash.upper()}, too weak"
    return ""
