"""The plain, frozen inputs of the posture rules: one endpoint's inventory facts and its check.

posture/snapshot.py builds these from models in bulk; posture/rules.py reads only these, so
the rules run (and are tested) without a database. Times are aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from checker.evidence import Evidence


@dataclass(frozen=True)
class Parameter:
    """A TLS parameter as the API states it (inventory.TLSParameter)."""

    name: str
    raw_value: str | None  # None: no value stated, the engine default applies
    value: object  # normalised (common.normalise.normalise_parameter)
    source: str  # api:parameter-group | api:cluster-parameter-group | api:engine-default | …
    source_name: str = ""  # the group that states it
    set_by: str = ""  # user | system | engine-default
    apply_type: str = ""  # static | dynamic
    apply_status: str = ""
    updated_at: datetime | None = None  # when inventory last saw the value change


@dataclass(frozen=True)
class CertificateAuthority:
    identifier: str
    valid_till: datetime | None


@dataclass(frozen=True)
class Pending:
    """A pending CA rotation, CA change or certificate renewal (inventory.PendingAction)."""

    action: str
    description: str = ""
    due: datetime | None = None
    opt_in_status: str = ""


@dataclass(frozen=True)
class LiveCheck:
    """The latest observation of the endpoint."""

    checked_at: datetime
    status: str  # ok | unreachable | tls-failed | auth-failed
    reason: str = ""
    evidence: Evidence = field(default_factory=Evidence)
    observation_id: int | None = None  # which Observation this is (what was evaluated)


@dataclass(frozen=True)
class ClientSeen:
    """A client (account@host) seen connected, per TLS version (checker.ClientSighting)."""

    user: str
    host: str
    tls_version: str  # raw Ssl_version; "" = without TLS
    connections: int
    checks: int
    first_seen: datetime
    last_seen: datetime

    @property
    def name(self) -> str:
        return f"{self.user}@{self.host}"


@dataclass(frozen=True)
class ClientCheck:
    """What one check learned about the clients (checker.ClientReadout)."""

    checked_at: datetime
    state: str  # ok (named) | off | no-privilege | error
    reason: str = ""
    counted_connections: int | None = None
    counted_without_tls: int | None = None


@dataclass(frozen=True)
class ClientEvidence:
    """The client evidence an endpoint has kept; the rules apply the window to it."""

    checks: tuple[ClientCheck, ...] = ()  # newest first
    sightings: tuple[ClientSeen, ...] = ()


@dataclass(frozen=True)
class InstanceFacts:
    """Everything the rules know about one endpoint."""

    instance_id: int
    provider: str  # aws | aliyun
    account: str
    region: str
    kind: str  # instance | cluster | proxy
    identifier: str
    engine: str
    engine_version: str = ""
    resource_id: str = ""
    endpoint_host: str = ""
    endpoint_port: int | None = None
    # Aurora: the cluster of a member and its (cluster) parameter group; members of a cluster.
    parent_identifier: str = ""
    parent_parameter_group: str = ""
    parent_parameter_group_is_default: bool | None = None
    member_identifiers: tuple[str, ...] = ()
    parameter_group: str = ""
    parameter_group_is_default: bool | None = None
    parameter_apply_status: str = ""
    parameters: tuple[Parameter, ...] = ()
    ca_identifier: str = ""
    ca: CertificateAuthority | None = None
    ca_lookup_error: str = ""
    pending_ca_identifier: str = ""
    pending_actions: tuple[Pending, ...] = ()
    server_cert_not_after: datetime | None = None
    server_cert_source: str = ""
    proxy_require_tls: bool | None = None
    ssl_enabled: bool | None = None  # ApsaraDB: TLS available (never "enforced")
    ssl_forced: bool | None = None  # ApsaraDB: ForceEncryption
    ssl_endpoint: str = ""
    lookup_errors: tuple[tuple[str, str], ...] = ()  # (what, why) pairs
    synced_at: datetime | None = None  # when a sync last confirmed these facts
    network_zone: str = ""  # the account's zone: where a checker that reaches it runs
    check: LiveCheck | None = None
    # Findings open before this evaluation, as (finding id, severity).
    open_findings: tuple[tuple[str, str], ...] = ()
    clients: ClientEvidence = field(default_factory=ClientEvidence)

    def parameter(self, name: str) -> Parameter | None:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        return None

    def lookup_error(self, *words: str) -> str:
        """The first recorded lookup failure whose key mentions one of `words`."""
        for what, why in self.lookup_errors:
            if any(word in what.lower() for word in words):
                return f"{what}: {why}"
        return ""


@dataclass(frozen=True)
class Policy:
    """Tunables the rules take from settings (TLSPOSTURE in settings.py)."""

    # Live variables older than this no longer say what is running (STALE_AFTER_HOURS).
    live_fresh_for: timedelta = timedelta(hours=26)
    # Expiry thresholds in days, widest first: low / medium / high severity.
    expiry_days: tuple[int, int, int] = (90, 30, 7)
    # Client connections seen within this window count (CLIENT_WINDOW_DAYS).
    client_window: timedelta = timedelta(days=30)
