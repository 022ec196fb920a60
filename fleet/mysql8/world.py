"""What a MySQL 8 persona knows about itself: variables, accounts, replication channels,
Group Replication and client threads, as plain data (JSON on disk, read by the server).

Documented behaviour of MySQL 8.0/8.4, not a real MySQL (README "The MySQL 8 persona").
Defaults follow the MySQL 8.0 and 8.4 reference manuals ("Encrypted connection TLS protocols
and ciphers", "Server system variables", the 8.4 "removed features" list); the tables and
their column types follow mysql-server's mysql-test result files cited in fleet/mysql8/tables.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from common.engines import version_tuple

# TLS 1.2 suites MySQL accepts by default. 8.0: the "mandatory" AEAD suites and the
# "approved" CBC suites with forward secrecy; 8.4 keeps only the mandatory ones.
MANDATORY_TLS12_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES256-CCM",
    "ECDHE-ECDSA-AES128-CCM",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-AES256-CCM",
    "DHE-RSA-AES128-CCM",
    "DHE-RSA-CHACHA20-POLY1305",
)
APPROVED_TLS12_CBC_CIPHERS = (
    "ECDHE-ECDSA-AES256-SHA384",
    "ECDHE-RSA-AES256-SHA384",
    "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-RSA-AES128-SHA256",
)
# MySQL's default TLS 1.3 suites: OpenSSL's, plus CCM; never CCM_8 unless named.
DEFAULT_TLS13_SUITES = (
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256",
)
# Removed in 8.4 (deprecated in 8.0): absent from SHOW VARIABLES, 1193 from SELECT @@.
REMOVED_IN_84 = ("have_ssl", "have_openssl", "default_authentication_plugin")


@dataclass(frozen=True)
class Account:
    user: str
    password: str = field(repr=False)
    host: str = "%"
    plugin: str = "caching_sha2_password"  # or mysql_native_password (8.0 only)
    ssl_type: str = ""  # '' | ANY | X509 | SPECIFIED
    locked: bool = False
    # Global privileges (PROCESS, REPLICATION CLIENT, SUPER, …) and tables it may SELECT
    # ("db.table" or "db.*").
    privileges: tuple[str, ...] = ()
    selects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Channel:
    """A replica's channel as CHANGE REPLICATION SOURCE TO left it (never started)."""

    name: str = ""
    host: str = ""
    port: int = 3306
    user: str = "repl"
    ssl: bool = False  # SOURCE_SSL
    verify_server_cert: bool = False  # SOURCE_SSL_VERIFY_SERVER_CERT
    ssl_ca: str = ""
    tls_version: str = ""  # SOURCE_TLS_VERSION ('' : the client library default)
    tls_ciphersuites: str | None = None  # SOURCE_TLS_CIPHERSUITES (NULL: default)


@dataclass(frozen=True)
class ClientThread:
    """Another client's connection, as performance_schema.threads shows it."""

    user: str
    host: str
    tls_version: str = ""  # '' : the connection is not encrypted
    tls_cipher: str = ""
    db: str | None = None
    command: str = "Sleep"
    seconds: int = 0


@dataclass
class World:
    version: str = "8.0.39"
    version_comment: str = "MySQL Community Server - GPL"
    require_secure_transport: bool = False
    tls_version: str | None = None  # None: the version's default
    ssl_cipher: str | None = None  # None: MySQL's default list (shown as '' / NULL)
    tls_ciphersuites: str | None = None  # None: MySQL's default suites (shown as NULL)
    auto_generate_certs: bool = True
    ssl_ca: str = "ca.pem"
    ssl_cert: str = "server-cert.pem"
    accounts: list[Account] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    # group_replication_* variables; None: the plugin is not installed (no variables at all).
    group_replication: dict[str, str] | None = None
    group_members: list[dict] = field(default_factory=list)
    client_threads: list[ClientThread] = field(default_factory=list)
    extra_variables: dict[str, str] = field(default_factory=dict)
    permissive_openssl: bool = False  # OpenSSL security level 0 for the server's context
    tls_configured: bool = True  # False: no certificate (have_ssl=DISABLED, no CLIENT_SSL)
    # Filled by the server process from its certificate.
    cert_not_before: str = ""
    cert_not_after: str = ""

    # -- derived --------------------------------------------------------------------------

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return version_tuple(self.version)

    @property
    def is_84(self) -> bool:
        return self.version_tuple[:2] >= (8, 4)

    @property
    def effective_tls_version(self) -> str:
        if self.tls_version is not None:
            return self.tls_version
        # 8.0.28 dropped TLS 1.0/1.1 from the default (and from what it accepts at all).
        if self.version_tuple >= (8, 0, 28):
            return "TLSv1.2,TLSv1.3"
        return "TLSv1,TLSv1.1,TLSv1.2,TLSv1.3"

    @property
    def effective_ssl_cipher(self) -> str:
        if self.ssl_cipher:
            return self.ssl_cipher
        ciphers = MANDATORY_TLS12_CIPHERS
        if not self.is_84:
            ciphers = ciphers + APPROVED_TLS12_CBC_CIPHERS
        return ":".join(ciphers)

    @property
    def effective_tls_ciphersuites(self) -> str:
        return self.tls_ciphersuites or ":".join(DEFAULT_TLS13_SUITES)

    def account(self, user: str) -> Account | None:
        return next((a for a in self.accounts if a.user == user), None)

    def variables(self) -> dict[str, str]:
        """SHOW GLOBAL VARIABLES as this version prints them (name → value)."""
        values = {
            "version": self.version,
            "version_comment": self.version_comment,
            "require_secure_transport": "ON" if self.require_secure_transport else "OFF",
            "tls_version": self.effective_tls_version,
            "ssl_cipher": self.ssl_cipher or "",
            "tls_ciphersuites": self.tls_ciphersuites or "",
            "have_ssl": "YES" if self.tls_configured else "DISABLED",
            "have_openssl": "YES" if self.tls_configured else "DISABLED",
            "auto_generate_certs": "ON" if self.auto_generate_certs else "OFF",
            "admin_tls_version": self.effective_tls_version,
            "admin_ssl_cipher": "",
            "admin_tls_ciphersuites": "",
            "ssl_ca": self.ssl_ca,
            "ssl_cert": self.ssl_cert,
            "ssl_key": "server-key.pem",
            "ssl_fips_mode": "OFF",
            "ssl_session_cache_mode": "ON",
            "tls_certificates_enforced_validation": "OFF",
            "default_authentication_plugin": "caching_sha2_password",
            "authentication_policy": "*,,",
            "performance_schema": "ON",
            "port": "3306",
            "server_id": "1",
            "version_compile_os": "Linux",
        }
        if self.is_84:
            for name in REMOVED_IN_84:
                values.pop(name, None)
        values.update(self.group_replication or {})
        values.update(self.extra_variables)
        return values

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> World:
        data = dict(data)
        data["accounts"] = [
            Account(**{**a, "privileges": tuple(a["privileges"]), "selects": tuple(a["selects"])})
            for a in data.get("accounts", [])
        ]
        data["channels"] = [Channel(**c) for c in data.get("channels", [])]
        data["client_threads"] = [ClientThread(**t) for t in data.get("client_threads", [])]
        return cls(**data)
