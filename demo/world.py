"""The demo world: every demo database, the server behind it, and the grade it should get.

One table drives everything `make demo` builds: the AWS resources seeded into moto
(demo/aws_seed.py), the Alibaba API's data (demo/aliyun_seed.py), the MariaDB servers and
their certificates (demo/servers.py, demo/certificates.py), the checker profiles that map
each cloud endpoint onto its server (demo/accounts.py) and the grades the demo test expects.

A `Database` is what the cloud API says (provider, account, region, engine, parameter group,
CA, pending actions, ApsaraDB SSL state). Its `server` names the `Server` — a real MariaDB
with chosen TLS options — that answers on its endpoint: the server's certificate names the
endpoint (except where the scenario is a wrong name), so VERIFY_IDENTITY passes or fails
as it would against the cloud. Several databases with the same TLS configuration share one
server, whose certificate then names all of their endpoints.

The grades follow the finding catalogue (posture/catalogue.py): caps of A, B, C and F, and
A+ when nothing stands in the way. No catalogue entry caps at D, so D never occurs. A
database with no server (NO_NETWORK_PATH) is one no checker can reach: its profile dials a
loopback port the demo holds closed, and it is known only from the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from common.engines import version_tuple
from fleet.mysql8.world import Channel

# ---- accounts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    name: str  # CloudAccount.name
    provider: str  # aws | aliyun
    regions: tuple[str, ...]
    # The environment variable the checker's password for this account's servers is in.
    password_env: str
    account_id: str = ""  # AWS: moto keeps each account's resources under its id
    role_arn: str = ""  # AWS: reached through STS (moto maps the role to its account)


PROD = Account(
    name="demo-aws-prod",
    provider="aws",
    regions=("us-east-1", "eu-west-1"),
    password_env="TLSPOSTURE_CRED_DEMO_PROD_CHECKER_PASSWORD",  # noqa: S106 - a variable name
    account_id="123456789012",  # moto's default account: the base credentials land here
)
STAGING = Account(
    name="demo-aws-staging",
    provider="aws",
    regions=("eu-west-1", "ap-southeast-1"),
    password_env="TLSPOSTURE_CRED_DEMO_STAGING_CHECKER_PASSWORD",  # noqa: S106 - a variable name
    account_id="222222222222",
    role_arn="arn:aws:iam::222222222222:role/TlsPostureAudit",
)
ALIYUN = Account(
    name="demo-aliyun",
    provider="aliyun",
    regions=("cn-hangzhou", "cn-shanghai"),
    password_env="TLSPOSTURE_CRED_DEMO_ALIYUN_CHECKER_PASSWORD",  # noqa: S106 - a variable name
)
ACCOUNTS = (PROD, STAGING, ALIYUN)
ALIYUN_ACCESS_KEY_ID_ENV = "TLSPOSTURE_CRED_DEMO_ALIYUN_ACCESS_KEY_ID"
ALIYUN_ACCESS_KEY_SECRET_ENV = "TLSPOSTURE_CRED_DEMO_ALIYUN_ACCESS_KEY_SECRET"  # noqa: S105 - a name

# ---- TLS settings shared by servers and parameter groups ----------------------------------

MODERN_TLS = "TLSv1.2,TLSv1.3"  # what RDS MySQL 8.0 allows
# TLS 1.0–1.2 (RDS MySQL 5.7's default), as MariaDB's tls_version spells it.
LEGACY_TLS = "TLSv1.0,TLSv1.1,TLSv1.2"
# Only AEAD suites with forward secrecy (TLS 1.3 suites are all AEAD with forward secrecy).
AEAD_FS_CIPHERS = (
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"
)
# Forward secrecy, but CBC suites too: what TLS 1.0/1.1 clients need.
ECDHE_CIPHERS = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA"
# Only anonymous and NULL suites excluded: ALL leaves the rest of the weak classes in.
WEAKENED_CIPHERS = "ALL:!aNULL:!eNULL"
# The day rds-ca-2019 (and every server certificate it issued) expired.
RDS_CA_2019_END = datetime(2024, 8, 22, 17, 8, 50, tzinfo=UTC)

# ---- servers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """A database server: TLS options and the certificate it presents. A real MariaDB, or a
    MySQL 8 persona where every database it serves is MySQL 8 (`mysql8_version`)."""

    name: str
    account: Account  # the checker password of this account logs in here
    tls: bool = True  # False: no certificate, no TLS at all
    require_secure_transport: bool = False
    tls_version: str | None = MODERN_TLS
    ssl_cipher: str | None = None
    # Who signs the certificate: "rds" / "apsaradb" (the demo CAs in the account's trust
    # bundle), "public" (the stand-in for the Amazon Trust Services roots that RDS Proxy
    # certificates chain to: in the accounts' proxy bundle only), "private" (a CA nobody
    # trusts) or "self" (self-signed).
    issuer: str = "rds"
    # None: the endpoints of the databases it serves; else exactly these names.
    cert_names: tuple[str, ...] | None = None
    key_type: str = "rsa2048"
    signature_hash: str = "sha256"
    valid_days: int = 365  # from now
    not_after: datetime | None = None  # a fixed end instead (a certificate that died with its CA)
    # TLS 1.0/1.1, RSA-1024 and SHA-1 need OpenSSL's security level 0, as on legacy servers.
    permissive_openssl: bool = False
    # MySQL 8 only (the server is then a persona, fleet/mysql8/): replication channels and
    # the group_replication_* variables of a Group Replication member.
    channels: tuple[Channel, ...] = ()
    group_replication: tuple[tuple[str, str], ...] | None = None
    # performance_schema ON: each client connection's TLS can be read (MariaDB's default is OFF).
    performance_schema: bool = False
    # Application clients and how each connects (fleet/clients.py: "plaintext", "TLSv1.2",
    # "TLSv1.0"): a MariaDB server has them connected by the demo while it runs
    # (demo/clients.py); a MySQL 8 persona lists them in performance_schema.threads.
    clients: tuple[str, ...] = ()


SERVERS: tuple[Server, ...] = (
    Server(
        "strict",
        PROD,
        require_secure_transport=True,
        ssl_cipher=AEAD_FS_CIPHERS,
    ),
    Server(
        "tls12-only",
        PROD,
        require_secure_transport=True,
        tls_version="TLSv1.2",
        ssl_cipher=AEAD_FS_CIPHERS,
    ),
    # A plaintext client and a TLS 1.2 one: enforcing TLS would break the first.
    Server("optional", PROD, performance_schema=True, clients=("plaintext", "TLSv1.2")),
    Server("proxy-public", PROD, issuer="public"),
    Server(
        "legacy-tls",
        PROD,
        require_secure_transport=True,
        tls_version=LEGACY_TLS,
        ssl_cipher=ECDHE_CIPHERS,
        permissive_openssl=True,
        # A TLS 1.0 client: refusing TLS 1.0/1.1 would break it.
        performance_schema=True,
        clients=("TLSv1.0", "TLSv1.2"),
    ),
    Server(
        "ca-2019",
        PROD,
        tls_version=LEGACY_TLS,
        ssl_cipher=ECDHE_CIPHERS,
        not_after=RDS_CA_2019_END,
        permissive_openssl=True,
    ),
    Server("enforced-default", STAGING, require_secure_transport=True),
    Server("weak-ciphers", STAGING, require_secure_transport=True, ssl_cipher=WEAKENED_CIPHERS),
    Server(
        "wrong-name",
        STAGING,
        require_secure_transport=True,
        cert_names=("analytics-old.aaaaaaaaaa.eu-west-1.rds.amazonaws.com",),
    ),
    Server("self-signed", STAGING, require_secure_transport=True, issuer="self"),
    Server(
        "weak-key",
        STAGING,
        require_secure_transport=True,
        ssl_cipher=AEAD_FS_CIPHERS,  # keeps anonymous suites out despite security level 0
        key_type="rsa1024",
        signature_hash="sha1",
        permissive_openssl=True,
    ),
    Server("untrusted", STAGING, require_secure_transport=True, issuer="private"),
    Server("aliyun-plaintext", ALIYUN, tls=False, tls_version=LEGACY_TLS),
    # Only a TLS 1.2 client: ready to enforce TLS.
    Server(
        "aliyun-optional",
        ALIYUN,
        issuer="apsaradb",
        performance_schema=True,
        clients=("TLSv1.2",),
    ),
    Server(
        "aliyun-forced",
        ALIYUN,
        require_secure_transport=True,
        ssl_cipher=AEAD_FS_CIPHERS,
        issuer="apsaradb",
    ),
    Server(
        "aliyun-expiring",
        ALIYUN,
        require_secure_transport=True,
        ssl_cipher=AEAD_FS_CIPHERS,
        issuer="apsaradb",
        valid_days=5,
    ),
    Server(
        "aliyun-renewal",
        ALIYUN,
        require_secure_transport=True,
        ssl_cipher=AEAD_FS_CIPHERS,
        issuer="apsaradb",
        valid_days=60,
    ),
    Server(
        "gr-legacy-recovery",
        PROD,
        require_secure_transport=True,
        ssl_cipher=AEAD_FS_CIPHERS,
        group_replication=(
            ("group_replication_ssl_mode", "REQUIRED"),
            ("group_replication_recovery_use_ssl", "ON"),
            ("group_replication_recovery_ssl_verify_server_cert", "OFF"),
            ("group_replication_recovery_tls_version", "TLSv1,TLSv1.1"),
            ("group_replication_recovery_tls_ciphersuites", ""),
        ),
    ),
    Server(
        "replica-unverified",
        PROD,
        require_secure_transport=True,
        ssl_cipher=AEAD_FS_CIPHERS,
        channels=(
            Channel(
                "upstream",
                "orders-db.aaaaaaaaaa.us-east-1.rds.amazonaws.com",
                ssl=True,
                verify_server_cert=False,
                tls_version=MODERN_TLS,
            ),
        ),
    ),
)

# ---- AWS parameter groups -------------------------------------------------------------------


@dataclass(frozen=True)
class ParameterGroup:
    """A custom (cluster) parameter group. Default groups are never created: AWS has them."""

    name: str
    account: Account
    region: str
    family: str
    values: dict[str, str]
    cluster: bool = False
    # Changed after the instances started: waits for a reboot (ParameterApplyStatus).
    pending_reboot: dict[str, str] = field(default_factory=dict)


PARAMETER_GROUPS: tuple[ParameterGroup, ...] = (
    ParameterGroup(
        "prod-mysql80-tls",
        PROD,
        "us-east-1",
        "mysql8.0",
        {"require_secure_transport": "1", "tls_version": MODERN_TLS, "ssl_cipher": AEAD_FS_CIPHERS},
    ),
    ParameterGroup(
        "billing-mysql80-tls",
        PROD,
        "us-east-1",
        "mysql8.0",
        {"require_secure_transport": "1", "tls_version": MODERN_TLS},
        pending_reboot={"tls_version": "TLSv1.3"},
    ),
    ParameterGroup(
        "catalog-mysql80-tls12",
        PROD,
        "eu-west-1",
        "mysql8.0",
        {"require_secure_transport": "1", "tls_version": "TLSv1.2", "ssl_cipher": AEAD_FS_CIPHERS},
    ),
    ParameterGroup(
        "reports-mysql57-enforced",
        PROD,
        "eu-west-1",
        "mysql5.7",
        {"require_secure_transport": "1"},  # tls_version stays 5.7's default: TLS 1.0–1.2
    ),
    ParameterGroup(
        "ledger-aurora-tls",
        PROD,
        "eu-west-1",
        "aurora-mysql8.0",
        {
            "require_secure_transport": "ON",
            "tls_version": MODERN_TLS,
            "ssl_cipher": AEAD_FS_CIPHERS,
        },
        cluster=True,
    ),
    ParameterGroup(
        "sessions-mariadb-ciphers",
        STAGING,
        "eu-west-1",
        "mariadb10.11",
        {
            "require_secure_transport": "1",
            "tls_version": MODERN_TLS,
            "ssl_cipher": WEAKENED_CIPHERS,
        },
    ),
    ParameterGroup(
        "staging-mysql80-enforced",
        STAGING,
        "eu-west-1",
        "mysql8.0",
        {"require_secure_transport": "1"},
    ),
    ParameterGroup(
        "staging-mysql80-enforced",
        STAGING,
        "ap-southeast-1",
        "mysql8.0",
        {"require_secure_transport": "1"},
    ),
)

# ---- databases ------------------------------------------------------------------------------

CURRENT_CA = "rds-ca-rsa2048-g1"
# The server of a database no checker can reach (a private subnet without a zone worker).
NO_NETWORK_PATH = ""


@dataclass(frozen=True)
class Database:
    """One database endpoint as its cloud describes it, its server, and its expected grade."""

    identifier: str  # DBInstanceIdentifier / cluster or proxy name / ApsaraDB DBInstanceId
    account: Account
    region: str
    engine: str
    engine_version: str
    server: str  # a Server name, or NO_NETWORK_PATH
    grade: str  # what posture_report must say
    shows: str  # what this database demonstrates, in a few words
    because: tuple[str, ...] = ()  # the finding ids that set the grade (none for A+)
    kind: str = "instance"  # instance | cluster | proxy
    parameter_group: str = ""  # "" → the engine's default group
    ca: str = CURRENT_CA
    pending_ca_rotation: bool = False
    members: tuple[str, ...] = ()  # Aurora: member instances (first is the writer)
    proxy_targets: tuple[str, ...] = ()
    require_tls: bool | None = None  # RDS Proxy RequireTLS
    # ApsaraDB: "off", "enabled" (SSLEnabled=Yes) or "forced" (and ForceEncryption=1).
    ssl: str = ""
    require_update: bool = False  # ApsaraDB RequireUpdate=Yes
    description: str = ""  # ApsaraDB DBInstanceDescription

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The endpoints the report lists for it: a cluster's members are endpoints too."""
        return (self.identifier, *self.members)


DATABASES: tuple[Database, ...] = (
    # -- AWS, production account, us-east-1
    Database(
        identifier="orders-db",
        account=PROD,
        region="us-east-1",
        engine="mysql",
        engine_version="8.0.39",
        server="strict",
        grade="A+",
        shows="custom group enforcing TLS 1.2/1.3 with AEAD suites only",
        parameter_group="prod-mysql80-tls",
    ),
    Database(
        identifier="search-db",
        account=PROD,
        region="us-east-1",
        engine="mysql",
        engine_version="8.0.39",
        server="strict",
        grade="B",
        shows="strict, but a CA certificate rotation is pending",
        because=("ca.rotation_pending",),
        parameter_group="prod-mysql80-tls",
        pending_ca_rotation=True,
    ),
    Database(
        identifier="billing-db",
        account=PROD,
        region="us-east-1",
        engine="mysql",
        engine_version="8.0.39",
        server="strict",
        grade="B",
        shows="tls_version changed to TLS 1.3 only, waiting for a reboot",
        because=("config.pending_reboot",),
        parameter_group="billing-mysql80-tls",
        ca="rds-ca-rsa4096-g1",
    ),
    Database(
        identifier="wordpress-db",
        account=PROD,
        region="us-east-1",
        engine="mysql",
        engine_version="8.0.39",
        server="optional",
        grade="C",
        shows="default parameter group: TLS offered, not enforced; a plaintext client connects",
        because=("transport.not_enforced", "clients.plaintext_observed"),
    ),
    Database(
        identifier="orders-proxy",
        account=PROD,
        region="us-east-1",
        engine="mysql",
        engine_version="",
        server="proxy-public",
        grade="C",
        shows="RDS Proxy with RequireTLS=false; its certificate verifies against the Amazon roots",
        because=("proxy.tls_not_required",),
        kind="proxy",
        proxy_targets=("orders-db",),
        require_tls=False,
    ),
    Database(
        identifier="orders-replica",
        account=PROD,
        region="us-east-1",
        engine="mysql",
        engine_version="8.0.39",
        server=NO_NETWORK_PATH,
        grade="B",
        shows="no network path from any checker: known only from the API, never probed",
        because=("evidence.incomplete",),
        parameter_group="prod-mysql80-tls",
    ),
    Database(
        identifier="payments-gr",
        account=PROD,
        region="us-east-1",
        engine="mysql",
        engine_version="8.0.39",
        server="gr-legacy-recovery",
        grade="B",
        shows="Group Replication member whose recovery channel allows TLS 1.0/1.1",
        because=("group_replication.recovery_unencrypted",),
        parameter_group="prod-mysql80-tls",
    ),
    Database(
        identifier="orders-ext-replica",
        account=PROD,
        region="us-east-1",
        engine="mysql",
        engine_version="8.0.39",
        server="replica-unverified",
        grade="B",
        shows="replica whose channel uses TLS without verifying its source's certificate",
        because=("replication.unverified",),
        parameter_group="prod-mysql80-tls",
    ),
    # -- AWS, production account, eu-west-1
    Database(
        identifier="catalog-db",
        account=PROD,
        region="eu-west-1",
        engine="mysql",
        engine_version="8.0.39",
        server="tls12-only",
        grade="A",
        shows="enforced, but TLS 1.2 only (TLS 1.3 not offered)",
        because=("protocol.no_tls13",),
        parameter_group="catalog-mysql80-tls12",
        ca="rds-ca-ecc384-g1",
    ),
    Database(
        identifier="ledger",
        account=PROD,
        region="eu-west-1",
        engine="aurora-mysql",
        engine_version="8.0.mysql_aurora.3.08.2",
        server="strict",
        grade="A+",
        shows="Aurora MySQL cluster, TLS settings in the cluster parameter group",
        kind="cluster",
        parameter_group="ledger-aurora-tls",
        members=("ledger-1", "ledger-2"),
    ),
    Database(
        identifier="reports-57",
        account=PROD,
        region="eu-west-1",
        engine="mysql",
        engine_version="5.7.44",
        server="legacy-tls",
        grade="B",
        shows="MySQL 5.7 enforcing TLS, TLS 1.0/1.1 still allowed and a TLS 1.0 client uses it",
        because=("protocol.legacy_tls", "clients.legacy_tls_observed"),
        parameter_group="reports-mysql57-enforced",
    ),
    Database(
        identifier="crm-legacy",
        account=PROD,
        region="eu-west-1",
        engine="mysql",
        engine_version="5.7.44",
        server="ca-2019",
        grade="F",
        shows="still on rds-ca-2019: its certificate expired with the CA",
        because=("cert.expired", "ca.deprecated"),
        ca="rds-ca-2019",
    ),
    # -- AWS, staging account (through an STS role), eu-west-1
    Database(
        identifier="inventory-db",
        account=STAGING,
        region="eu-west-1",
        engine="mariadb",
        engine_version="11.8.3",
        server="enforced-default",
        grade="B",
        shows="MariaDB 11.8 enforces TLS by default; static-RSA suites remain",
        because=("cipher.no_forward_secrecy",),
    ),
    Database(
        identifier="sessions-db",
        account=STAGING,
        region="eu-west-1",
        engine="mariadb",
        engine_version="10.11.11",
        server="weak-ciphers",
        grade="C",
        shows="ssl_cipher weakened to ALL:!aNULL:!eNULL",
        because=("cipher.policy_weakened",),
        parameter_group="sessions-mariadb-ciphers",
    ),
    Database(
        identifier="analytics-db",
        account=STAGING,
        region="eu-west-1",
        engine="mysql",
        engine_version="8.0.39",
        server="wrong-name",
        grade="C",
        shows="certificate names another host: VERIFY_IDENTITY fails",
        because=("cert.hostname_mismatch",),
        parameter_group="staging-mysql80-enforced",
    ),
    # -- AWS, staging account, ap-southeast-1
    Database(
        identifier="queue-db",
        account=STAGING,
        region="ap-southeast-1",
        engine="mysql",
        engine_version="8.0.39",
        server="self-signed",
        grade="C",
        shows="self-signed certificate",
        because=("cert.self_signed",),
        parameter_group="staging-mysql80-enforced",
    ),
    Database(
        identifier="audit-db",
        account=STAGING,
        region="ap-southeast-1",
        engine="mysql",
        engine_version="8.0.39",
        server="weak-key",
        grade="C",
        shows="RSA-1024 key, SHA-1 signature",
        because=("cert.weak_key", "cert.weak_signature"),
        parameter_group="staging-mysql80-enforced",
    ),
    Database(
        identifier="partner-db",
        account=STAGING,
        region="ap-southeast-1",
        engine="mysql",
        engine_version="8.0.39",
        server="untrusted",
        grade="C",
        shows="certificate from a CA outside the trust bundle",
        because=("cert.untrusted",),
        parameter_group="staging-mysql80-enforced",
    ),
    # -- Alibaba Cloud ApsaraDB RDS for MySQL
    Database(
        identifier="rm-bp1legacycrm",
        account=ALIYUN,
        region="cn-hangzhou",
        engine="MySQL",
        engine_version="5.7",
        server="aliyun-plaintext",
        grade="F",
        shows="SSL off: no TLS at all",
        because=("tls.unavailable",),
        ssl="off",
        description="legacy-crm",
    ),
    Database(
        identifier="rm-bp1shopweb",
        account=ALIYUN,
        region="cn-hangzhou",
        engine="MySQL",
        engine_version="8.0",
        server="aliyun-optional",
        grade="C",
        shows="SSL enabled but not forced; only TLS clients: ready to enforce",
        because=("transport.not_enforced",),
        ssl="enabled",
        description="shop-web",
    ),
    Database(
        identifier="rm-bp1orderapi",
        account=ALIYUN,
        region="cn-hangzhou",
        engine="MySQL",
        engine_version="8.0",
        server="aliyun-forced",
        grade="A+",
        shows="SSL forced, TLS 1.2/1.3, AEAD suites only",
        ssl="forced",
        description="order-api",
    ),
    Database(
        identifier="rm-uf6payments",
        account=ALIYUN,
        region="cn-shanghai",
        engine="MySQL",
        engine_version="8.0",
        server="aliyun-expiring",
        grade="C",
        shows="SSL forced, but the certificate expires in 5 days",
        because=("cert.expiring",),
        ssl="forced",
        description="payments",
    ),
    Database(
        identifier="rm-uf6loyalty",
        account=ALIYUN,
        region="cn-shanghai",
        engine="MySQL",
        engine_version="8.0",
        server="aliyun-renewal",
        grade="B",
        shows="certificate renewal required (RequireUpdate=Yes)",
        because=("ca.rotation_pending",),
        ssl="forced",
        require_update=True,
        description="loyalty",
    ),
)

GRADES_SHOWN = ("A+", "A", "B", "C", "F")


def server(name: str) -> Server:
    for candidate in SERVERS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


# The MySQL 8.0 release an engine version stands for: Aurora MySQL 3.08 is 8.0.39-compatible,
# ApsaraDB says only "8.0" (its current minor release, 8.0.36, stands in).
_MYSQL8_FOR = {"aurora-mysql": "8.0.39", "MySQL": "8.0.36"}


def mysql8_version(candidate: Server) -> str | None:
    """The MySQL 8 version a server answers as (it is then a persona, fleet/mysql8/), or None
    when a database it serves is not MySQL 8 (MariaDB, MySQL 5.7, an RDS Proxy)."""
    versions = set()
    for db in DATABASES:
        if db.server != candidate.name:
            continue
        if db.engine.lower() not in ("mysql", "aurora-mysql") or not db.engine_version.startswith(
            "8."
        ):
            return None
        exact = version_tuple(db.engine_version)
        versions.add(db.engine_version if len(exact) == 3 else _MYSQL8_FOR[db.engine])
    return max(versions, key=version_tuple) if versions else None


def databases_in(account: Account, region: str | None = None) -> list[Database]:
    return [
        db for db in DATABASES if db.account == account and (region is None or db.region == region)
    ]


def groups_in(account: Account, region: str) -> list[ParameterGroup]:
    return [g for g in PARAMETER_GROUPS if g.account == account and g.region == region]


def expected_grades() -> dict[tuple[str, str], str]:
    """(account name, endpoint identifier) → grade, for every endpoint the report lists."""
    return {(db.account.name, endpoint): db.grade for db in DATABASES for endpoint in db.endpoints}
