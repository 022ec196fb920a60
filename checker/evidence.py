"""The evidence one check of one endpoint produces: the contract between checker and posture.

Stored as `Observation.evidence` (JSON) with `schema` = EVIDENCE_SCHEMA_VERSION. The checker
(probe.py, session.py) fills it; posture/rules.py reads it. Fields may be added; renaming or
changing the meaning of one needs a new schema version and a reader for the old one.

Conventions:
- A question the checker could not answer is `untested` / None with a reason, never a guess.
- Times are ISO-8601 UTC strings with a `Z`.
- Raw server values are kept as the server sent them (strings), not normalised.

Pure module: no Django imports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

EVIDENCE_SCHEMA_VERSION = 1

# Verdict states of one probe question (a protocol version, a cipher class).
ACCEPTED = "accepted"
REJECTED = "rejected"
UNTESTED = "untested"  # not asked: budget, deadline, not applicable, client cannot ask
ERROR = "error"  # asked, but the answer was unusable (reset, garbage, timeout)

PROTOCOL_VERSIONS = ("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")

# Cipher classes probed one handshake each (docs/design.md "Checker rules" 2; catalogue ids in
# parentheses). "non_aead" (CBC or other non-AEAD suites with forward secrecy) is needed
# for the A+ rule, which requires only AEAD suites with forward secrecy.
CIPHER_CLASSES = (
    "anonymous_null_export",  # aNULL / eNULL / EXPORT   (cipher.anonymous_or_null)
    "broken",  # RC4, DES, 3DES, MD5            (cipher.broken)
    "static_rsa",  # RSA key exchange, no FS    (cipher.no_forward_secrecy)
    "non_aead",  # CBC suites with ECDHE/DHE   (blocks A+)
)

# Values of SessionEvidence.outcome
SESSION_OK = "ok"
SESSION_SKIPPED = "skipped"  # no credentials configured, or TLS did not verify
SESSION_TLS_FAILED = "tls-failed"
SESSION_AUTH_FAILED = "auth-failed"
SESSION_ERROR = "error"


@dataclass
class Verdict:
    state: str = UNTESTED
    detail: str = ""  # reason for untested/error; alert text for rejected
    suite: str | None = None  # the suite the server chose when accepted (OpenSSL name)
    suites: list[str] = field(default_factory=list)  # all accepted suites seen, if several


@dataclass
class CertificateInfo:
    subject: str = ""  # RFC 4514
    common_name: str | None = None
    sans: list[str] = field(default_factory=list)  # DNS names and IP addresses
    issuer: str = ""
    not_before: str | None = None
    not_after: str | None = None
    key_type: str = ""  # RSA | EC | Ed25519 | Ed448 | DSA
    key_bits: int | None = None
    curve: str | None = None
    signature_hash: str | None = None  # sha256 | sha384 | sha1 | md5 | None (e.g. Ed25519)
    serial: str = ""  # hex
    sha256_fingerprint: str = ""  # hex, lower case, no separators
    self_signed: bool = False
    # "mysql-auto" (MySQL_Server_<ver>_Auto_Generated_Server_Certificate),
    # "mariadb-zero-config" (CN=MariaDB Server, in memory), or None.
    auto_generated: str | None = None
    # Added in v1: what of this certificate could not be decoded (its other fields stand).
    note: str = ""


@dataclass
class Verification:
    ok: bool | None = None  # None: could not be evaluated (no chain, no bundle)
    reason: str = ""


@dataclass
class ProbeEvidence:
    """What a credential-less look at the wire showed."""

    reached: bool = False  # a MySQL greeting (or an ERR packet) came back
    error: str = ""  # why the probe stopped early, in words
    error_code: int | None = None  # MySQL ERR packet code instead of a greeting (e.g. 1129)
    server_version: str = ""
    flavour: str = ""  # mysql | mariadb | unknown
    tls_offered: bool | None = None  # CLIENT_SSL capability bit
    chain: list[CertificateInfo] = field(default_factory=list)  # leaf first
    trust: Verification = field(default_factory=Verification)  # chain vs trust bundle
    hostname: Verification = field(default_factory=Verification)  # leaf vs verified name
    protocols: dict[str, Verdict] = field(default_factory=dict)  # keys: PROTOCOL_VERSIONS
    cipher_classes: dict[str, Verdict] = field(default_factory=dict)  # keys: CIPHER_CLASSES
    handshakes: int = 0
    elapsed_ms: int = 0
    # Added in v1 (readers default them):
    capabilities: int | None = None  # the greeting's capability flags, as sent
    # True: the chain came from a Certificate message seen in clear (TLS <= 1.2), so
    # `chain` holds exactly what the server sends; False: only the leaf could be seen
    # (TLS 1.3 encrypts the Certificate message); None: no certificate seen.
    intermediates_observed: bool | None = None
    chain_note: str = ""  # how the chain was obtained, or why it is incomplete


@dataclass
class RemoteAccount:
    user: str
    host: str
    ssl_type: str  # '' (none) | ANY (REQUIRE SSL) | X509 | SPECIFIED


@dataclass
class ReplicationChannel:
    name: str = ""
    source_host: str = ""
    source_port: int | None = None
    ssl_allowed: str | None = None  # YES | NO | IGNORED (raw)
    ssl_verify_server_cert: bool | None = None
    tls_version: str | None = None  # raw; None where the flavour does not say
    ssl_ca_file: str = ""
    # Added in v1: SOURCE_TLS_CIPHERSUITES (MySQL 8.0.19+); None where not set or not said.
    tls_ciphersuites: str | None = None


@dataclass
class Readout:
    """A part of the session that may be unreadable for lack of privilege."""

    state: str = UNTESTED  # ok | no-privilege | not-applicable | error | untested
    reason: str = ""


@dataclass
class AccountsReadout(Readout):
    remote: list[RemoteAccount] = field(default_factory=list)


@dataclass
class ReplicationReadout(Readout):
    channels: list[ReplicationChannel] = field(default_factory=list)


@dataclass
class ClientConnection:
    """One application client connection the server listed (performance_schema.threads)."""

    user: str
    host: str
    connection_type: str = ""  # raw CONNECTION_TYPE: TCP/IP (no TLS) | SSL/TLS
    tls_version: str | None = None  # raw Ssl_version of that connection; None: no TLS
    tls_cipher: str | None = None
    connection_id: int | None = None  # PROCESSLIST_ID: a connection seen twice counts once


@dataclass
class ClientsReadout(Readout):
    """Who connects, and whether with TLS (docs/reference/mysql-tls.md "Client connections").

    state: ok (performance_schema read) | off (performance_schema OFF) | no-privilege |
    not-applicable | error. `counters` are read whatever the state: between two checks they
    count the connections without TLS, without names.
    """

    performance_schema: str | None = None  # raw @@performance_schema
    connections: list[ClientConnection] = field(default_factory=list)
    # Threads kept apart from the clients, by kind: checker | replication | system | local.
    kept_apart: dict[str, int] = field(default_factory=dict)
    # Connections, Ssl_accepts, Ssl_finished_accepts, Uptime (global status), as integers.
    counters: dict[str, int] = field(default_factory=dict)
    counters_reason: str = ""  # why `counters` is empty
    # Connections without TLS this check made itself before the counters were read (the
    # canary): subtracted from the counted ones.
    own_plaintext: int = 0


@dataclass
class PlaintextLogin:
    attempted: bool = False
    accepted: bool | None = None
    error_code: int | None = None
    reason: str = ""


@dataclass
class SessionEvidence:
    """What an authenticated, VERIFY_IDENTITY session read. Never attempted otherwise."""

    attempted: bool = False
    outcome: str = SESSION_SKIPPED
    reason: str = ""
    error_code: int | None = None
    tls_version: str | None = None  # of this session
    tls_cipher: str | None = None
    # Raw values of require_secure_transport, tls_version, ssl_cipher, tls_ciphersuites,
    # have_ssl, version, version_ssl_library, … (missing key: not read).
    variables: dict[str, str | None] = field(default_factory=dict)
    not_applicable: list[str] = field(default_factory=list)  # variables answering 1193
    # Ssl_server_not_before/after, Current_tls_* … as the server printed them.
    status: dict[str, str] = field(default_factory=dict)
    accounts: AccountsReadout = field(default_factory=AccountsReadout)
    replication: ReplicationReadout = field(default_factory=ReplicationReadout)
    group_replication: dict[str, str | None] = field(default_factory=dict)
    plaintext_login: PlaintextLogin = field(default_factory=PlaintextLogin)
    elapsed_ms: int = 0  # added in v1
    clients: ClientsReadout = field(default_factory=ClientsReadout)  # added in v1


@dataclass
class Evidence:
    schema: int = EVIDENCE_SCHEMA_VERSION
    dialed: str = ""  # host:port actually connected to
    verified_name: str = ""  # the canonical endpoint name verified
    trust_bundle: str = ""  # which bundle (a label or path), never its content
    # Added in v1 (readers default them):
    dialed_address: str = ""  # ip:port the name in `dialed` resolved to; every connection used it
    trust_bundle_source: str = ""  # profile | account | provider | default | "" (none)
    profile: str = ""  # name of the CheckerProfile that applied, if any
    credential_source: str = ""  # e.g. "env:NAME", "secrets-manager:ARN", "iam", "stored"
    probe: ProbeEvidence = field(default_factory=ProbeEvidence)
    session: SessionEvidence = field(default_factory=SessionEvidence)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Evidence:
        """Tolerant reader: unknown keys are ignored, missing keys take their defaults."""
        if not data:
            return cls()
        if data.get("schema", EVIDENCE_SCHEMA_VERSION) != EVIDENCE_SCHEMA_VERSION:
            raise ValueError(f"unsupported evidence schema {data.get('schema')!r}")
        return _build(cls, data)


_NESTED = {
    (ProbeEvidence, "chain"): CertificateInfo,
    (ProbeEvidence, "protocols"): Verdict,
    (ProbeEvidence, "cipher_classes"): Verdict,
    (AccountsReadout, "remote"): RemoteAccount,
    (ReplicationReadout, "channels"): ReplicationChannel,
    (ClientsReadout, "connections"): ClientConnection,
}
_CHILDREN = {
    (Evidence, "probe"): ProbeEvidence,
    (Evidence, "session"): SessionEvidence,
    (ProbeEvidence, "trust"): Verification,
    (ProbeEvidence, "hostname"): Verification,
    (SessionEvidence, "accounts"): AccountsReadout,
    (SessionEvidence, "replication"): ReplicationReadout,
    (SessionEvidence, "plaintext_login"): PlaintextLogin,
    (SessionEvidence, "clients"): ClientsReadout,
}


def _build(cls, data: dict[str, Any]):
    kwargs = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        child = _CHILDREN.get((cls, f.name))
        item = _NESTED.get((cls, f.name))
        if child is not None and isinstance(value, dict):
            value = _build(child, value)
        elif item is not None and isinstance(value, list):
            value = [_build(item, v) if isinstance(v, dict) else v for v in value]
        elif item is not None and isinstance(value, dict):
            value = {k: _build(item, v) if isinstance(v, dict) else v for k, v in value.items()}
        kwargs[f.name] = value
    return cls(**kwargs)
