"""Which value counts (docs/design.md "Evidence and precedence"): EffectiveFacts, pure
functions over InstanceFacts.

- What is running: a fresh live reading, else what the API states, else a stale live reading.
  A live variable is fresh when its observation is younger than Policy.live_fresh_for AND
  was taken after inventory last saw the API value change (otherwise the server may not
  have been told yet).
- What will run after reboot: the API value.
- Wire facts (accepted protocols, cipher classes, the chain) have no API counterpart: they
  come from the latest observation whatever its age, and carry its time.
- Every fact keeps raw value, normalised value, source and time; unknown facts keep why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property

from checker.evidence import (
    ACCEPTED,
    PROTOCOL_VERSIONS,
    REJECTED,
    SESSION_OK,
    CertificateInfo,
    Evidence,
    Verdict,
)
from common import engines
from common.normalise import normalise_parameter
from common.timeutil import iso_z, parse_iso
from posture import providers
from posture.fact import (
    APSARADB_SSL,
    ENGINE_DEFAULT,
    ENGINE_VERSION,
    LIVE_LOGIN,
    LIVE_VARIABLE,
    LIVE_WIRE,
    PROXY_API,
    Fact,
    unknown,
)
from posture.facts import InstanceFacts, Parameter, Policy
from posture.providers.base import Provider


def parse_server_time(raw: str | None) -> datetime | None:
    """`Ssl_server_not_after` as MySQL prints it (`Nov 23 06:24:58 2027 GMT`), or ISO."""
    if not raw:
        return None
    text = " ".join(str(raw).split())
    try:
        return datetime.strptime(text, "%b %d %H:%M:%S %Y GMT").replace(tzinfo=UTC)
    except ValueError:
        return parse_iso(text)


class EffectiveFacts:
    """The facts of one endpoint at one moment, with precedence applied: what the rules and
    the remediation builders read. Pure, read-only."""

    def __init__(self, facts: InstanceFacts, now: datetime, policy: Policy | None = None):
        self.facts = facts
        self.now = now
        self.policy = policy or Policy()
        self.check = facts.check
        self.evidence: Evidence = facts.check.evidence if facts.check else Evidence()
        self.probe = self.evidence.probe
        self.session = self.evidence.session

    @cached_property
    def provider(self) -> Provider:
        """The endpoint's provider module (posture/providers/); raises for an unknown one."""
        return providers.provider_for(self.facts.provider)

    @cached_property
    def enforcement_parameter(self) -> str:
        """The engine's parameter that enforces TLS (require_secure_transport for MySQL)."""
        return engines.enforcement_parameter(self.facts.engine)

    # ---- the observation ------------------------------------------------------------

    @cached_property
    def checked_at(self) -> datetime | None:
        return self.check.checked_at if self.check else None

    @cached_property
    def fresh(self) -> bool:
        return self.checked_at is not None and (
            self.now - self.checked_at <= self.policy.live_fresh_for
        )

    @cached_property
    def wire_seen(self) -> bool:
        """The latest check reached the server and spoke the protocol."""
        return self.check is not None and self.probe.reached

    @cached_property
    def session_ok(self) -> bool:
        return self.check is not None and self.session.outcome == SESSION_OK

    @cached_property
    def no_live_reason(self) -> str:
        if self.check is None:
            return "never checked"
        if not self.probe.reached:
            why = self.probe.error or self.check.reason or self.check.status
            return f"the latest check did not reach the server: {why}"
        return ""

    @cached_property
    def no_session_reason(self) -> str:
        if self.check is None:
            return "never checked"
        if self.session.outcome == SESSION_OK:
            return ""
        why = self.session.reason or self.session.outcome
        return f"no authenticated session ({why})"

    def wire(self, value, raw=None) -> Fact:
        return Fact(value=value, raw=raw, source=LIVE_WIRE, at=self.checked_at)

    # ---- variables: running vs after reboot -----------------------------------------

    def api(self, name: str) -> Fact:
        """What the API states (what runs after a reboot)."""
        parameter = self.facts.parameter(name)
        if parameter is None:
            why = self.facts.lookup_error("param") or f"the API states no {name}"
            return unknown(why)
        if parameter.value is not None:
            return self._api_fact(parameter, parameter.value)
        if parameter.raw_value is None and name == self.enforcement_parameter:
            default = engines.default_value(
                self.facts.provider, self.facts.engine, self.facts.engine_version, name
            )
            if default is not None:
                return Fact(
                    value=default,
                    raw=None,
                    source=ENGINE_DEFAULT,
                    at=self.facts.synced_at,
                    # Where the API left it unstated: the group, or the ApsaraDB running list.
                    source_name=parameter.source_name or parameter.source,
                )
        why = f"{name} has no stated value" if parameter.raw_value is None else "unreadable"
        return unknown(f"{why} ({parameter.source})")

    def _api_fact(self, parameter: Parameter, value) -> Fact:
        return Fact(
            value=value,
            raw=parameter.raw_value,
            source=parameter.source,
            at=self.facts.synced_at,
            source_name=parameter.source_name,
        )

    def live_variable(self, name: str) -> Fact:
        """The variable as the server reported it in the latest session (fresh or not)."""
        if not self.session_ok:
            return unknown(self.no_session_reason)
        parameter = self.facts.parameter(name)
        superseded = bool(
            parameter and parameter.updated_at and parameter.updated_at > self.checked_at
        )
        stale = not self.fresh or superseded
        if name in self.session.not_applicable:
            return Fact(
                raw=None,
                source=LIVE_VARIABLE,
                at=self.checked_at,
                stale=stale,
                absent=True,
                reason=f"the server has no {name} (error 1193)",
            )
        raw = self.session.variables.get(name)
        if raw is None:
            return unknown(f"{name} was not read in the session")
        return Fact(
            value=normalise_parameter(name, raw),
            raw=raw,
            source=LIVE_VARIABLE,
            at=self.checked_at,
            stale=stale,
        )

    def running(self, name: str) -> Fact:
        """What is running: fresh live, else API, else stale live."""
        live = self.live_variable(name)
        usable_live = live.known or live.absent
        if usable_live and not live.stale:
            return live
        api = self.api(name)
        if api.known:
            return api
        if usable_live:
            return live
        return unknown(f"{api.reason}; live: {live.reason}")

    # ---- derived facts ----------------------------------------------------------------

    @cached_property
    def transport_enforced(self) -> Fact:
        facts = self.facts
        if facts.kind == "proxy":
            if facts.proxy_require_tls is None:
                return unknown(facts.lookup_error("proxy") or "RequireTLS not reported")
            return Fact(
                value=facts.proxy_require_tls,
                raw=facts.proxy_require_tls,
                source=PROXY_API,
                at=facts.synced_at,
            )
        login = self.session.plaintext_login
        if self.fresh and login.attempted and login.accepted is not None:
            if login.accepted:
                return Fact(False, "plaintext login accepted", LIVE_LOGIN, self.checked_at)
            if login.error_code == 3159:
                return Fact(True, "plaintext login refused (3159)", LIVE_LOGIN, self.checked_at)
        variable = self.running(self.enforcement_parameter)
        if variable.absent:
            variable = Fact(
                False, None, variable.source, variable.at, variable.reason, variable.stale
            )
        elif not variable.known:
            supported = engines.has_enforcement(facts.engine, facts.engine_version)
            if supported is False:
                variable = Fact(False, facts.engine_version, ENGINE_VERSION, facts.synced_at)
        # The provider may have its own enforcement fact (ApsaraDB's ForceEncryption).
        return self.provider.transport_enforced(self, variable)

    @cached_property
    def tls_available(self) -> Fact:
        live = self._live_tls_available()
        if live.known and self.fresh:
            return live
        if self.facts.ssl_enabled is not None:
            return Fact(
                self.facts.ssl_enabled, self.facts.ssl_enabled, APSARADB_SSL, self.facts.synced_at
            )
        if live.known:
            return Fact(live.value, live.raw, live.source, live.at, stale=True)
        return unknown(self.facts.lookup_error("ssl") or live.reason or "no TLS availability known")

    def _live_tls_available(self) -> Fact:
        if self.session_ok and self.session.tls_version:
            return Fact(True, self.session.tls_version, LIVE_VARIABLE, self.checked_at)
        have_ssl = self.session.variables.get("have_ssl") if self.session_ok else None
        if have_ssl is not None and str(have_ssl).upper() != "YES":
            return Fact(False, have_ssl, LIVE_VARIABLE, self.checked_at)
        if self.wire_seen and self.probe.tls_offered is not None:
            return self.wire(self.probe.tls_offered, self.probe.tls_offered)
        if have_ssl is not None:
            return Fact(True, have_ssl, LIVE_VARIABLE, self.checked_at)
        return unknown(self.no_live_reason or "the probe could not tell whether TLS is offered")

    # ---- the certificate ----------------------------------------------------------------

    @cached_property
    def leaf(self) -> CertificateInfo | None:
        if self.wire_seen and self.probe.chain:
            return self.probe.chain[0]
        return None

    @cached_property
    def server_cert_not_after(self) -> Fact:
        live = self._live_not_after()
        if live.known and self.fresh:
            return live
        if self.facts.server_cert_not_after is not None:
            return Fact(
                self.facts.server_cert_not_after,
                iso_z(self.facts.server_cert_not_after),
                self.facts.server_cert_source or "api",
                self.facts.synced_at,
            )
        if live.known:
            return Fact(live.value, live.raw, live.source, live.at, stale=True)
        return unknown(
            self.facts.lookup_error("cert")
            or "no certificate seen on the wire and none reported by the API"
        )

    def _live_not_after(self) -> Fact:
        if self.leaf is not None and self.leaf.not_after:
            value = parse_iso(self.leaf.not_after)
            if value:
                return self.wire(value, self.leaf.not_after)
        raw = self.session.status.get("Ssl_server_not_after") if self.session_ok else None
        value = parse_server_time(raw)
        if value:
            return Fact(value, raw, LIVE_VARIABLE, self.checked_at)
        return unknown(self.no_live_reason or "the check saw no server certificate")

    # ---- protocols and ciphers ----------------------------------------------------------

    def protocol(self, version: str) -> Verdict:
        if not self.wire_seen:
            return Verdict(detail=self.no_live_reason)
        return self.probe.protocols.get(version) or Verdict(detail="not probed")

    def cipher_class(self, name: str) -> Verdict:
        if not self.wire_seen:
            return Verdict(detail=self.no_live_reason)
        return self.probe.cipher_classes.get(name) or Verdict(detail="not probed")

    @cached_property
    def tls_versions_accepted(self) -> list[str] | None:
        verdicts = [self.protocol(v) for v in PROTOCOL_VERSIONS]
        if not any(v.state in (ACCEPTED, REJECTED) for v in verdicts):
            return None
        pairs = zip(PROTOCOL_VERSIONS, verdicts, strict=True)
        return [version for version, verdict in pairs if verdict.state == ACCEPTED]

    @cached_property
    def tls_versions_rejected(self) -> list[str] | None:
        """Versions a handshake was refused on; None when no version was learned at all."""
        if self.tls_versions_accepted is None:
            return None
        return [v for v in PROTOCOL_VERSIONS if self.protocol(v).state == REJECTED]

    @cached_property
    def supports_tls13(self) -> bool | None:
        session_vars = self.session.variables if self.session_ok else {}
        return engines.supports_tls13(
            self.facts.provider,
            self.facts.engine,
            self.facts.engine_version,
            server_version=str(session_vars.get("version") or self.probe.server_version or ""),
            ssl_library=session_vars.get("version_ssl_library"),
        )

    @cached_property
    def uses_mariadb(self) -> bool:
        server = self.probe.server_version if self.wire_seen else ""
        return engines.is_mariadb(self.facts.engine, server) or self.probe.flavour == "mariadb"
