"""MySQL 8.0/8.4 scenarios on the persona, with the finding each one should give.

Same shape as fleet/scenarios.py (name → builder(anchors, endpoint) → spec), so the test
suite, the benchmarks and the demo start them with `fleet.mariadb.Fleet` like the MariaDB
ones. Channels are as `CHANGE REPLICATION SOURCE TO` leaves them, never started.
"""

from __future__ import annotations

from collections.abc import Callable

from fleet.certs import make_ca, make_server_cert
from fleet.mysql8.persona import PersonaSpec
from fleet.mysql8.world import Channel, ClientThread
from fleet.scenarios import TrustAnchors, endpoint_name

MYSQL8_SCENARIOS: dict[str, Callable[[TrustAnchors, str], PersonaSpec]] = {}
CCM_8 = "TLS_AES_128_CCM_8_SHA256"
# group_replication_* as a member with the plugin loaded shows them (8.0.39).
_GR_DEFAULTS = (
    ("group_replication_ssl_mode", "REQUIRED"),
    ("group_replication_recovery_use_ssl", "ON"),
    ("group_replication_recovery_ssl_verify_server_cert", "OFF"),
    ("group_replication_recovery_tls_version", "TLSv1.2,TLSv1.3"),
    ("group_replication_recovery_tls_ciphersuites", ""),
    ("group_replication_group_name", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"),
    ("group_replication_communication_stack", "XCOM"),
)


def _gr(**overrides: str) -> tuple[tuple[str, str], ...]:
    values = dict(_GR_DEFAULTS)
    values.update({f"group_replication_{k}": v for k, v in overrides.items()})
    return tuple(values.items())


def _members(name: str) -> tuple[dict, ...]:
    return (
        {"id": "11111111-0000-0000-0000-000000000001", "host": name, "role": "PRIMARY"},
        {"id": "11111111-0000-0000-0000-000000000002", "host": f"peer-{name}", "role": "SECONDARY"},
    )


def persona(func):
    MYSQL8_SCENARIOS[func.__name__] = func
    return func


def _leaf(anchors: TrustAnchors, name: str, **kwargs):
    return make_server_cert(
        [name], issuer=anchors.intermediate, chain=(anchors.intermediate.cert,), **kwargs
    )


_CLIENTS = (
    ClientThread("app", "10.0.1.15", "TLSv1.3", "TLS_AES_256_GCM_SHA384", db="orders"),
    ClientThread("reporting", "10.0.2.40", "", "", db="orders", seconds=12),
)


@persona
def mysql80_enforced(anchors, name):
    """8.0.39, require_secure_transport=ON, MySQL's default TLS 1.2/1.3 and suites."""
    return PersonaSpec(
        "mysql80_enforced",
        certificate=_leaf(anchors, name),
        require_secure_transport=True,
        accounts_without_ssl=False,
        client_threads=_CLIENTS,
    )


@persona
def mysql80_legacy(anchors, name):
    """8.0.27 (before TLS 1.0/1.1 left the default) with TLS 1.0–1.2 and `ALL:@SECLEVEL=0`."""
    return PersonaSpec(
        "mysql80_legacy",
        version="8.0.27",
        certificate=_leaf(anchors, name),
        tls_version="TLSv1,TLSv1.1,TLSv1.2",
        ssl_cipher="ALL:@SECLEVEL=0",
        client_threads=(
            ClientThread("batch", "10.0.3.7", "TLSv1", "ECDHE-RSA-AES128-SHA", db="orders"),
            ClientThread("legacy_app", "10.0.3.9", "", "", db="orders"),
            ClientThread("app", "10.0.1.15", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"),
        ),
    )


@persona
def mysql80_replica_unverified(anchors, name):
    """A channel with SOURCE_SSL=1, SOURCE_SSL_VERIFY_SERVER_CERT=0 and
    SOURCE_TLS_VERSION='TLSv1.1,TLSv1.2': replication.unverified and replication.legacy_tls."""
    return PersonaSpec(
        "mysql80_replica_unverified",
        certificate=_leaf(anchors, name),
        require_secure_transport=True,
        channels=(
            Channel(
                "orders",
                endpoint_name("mysql80_enforced"),
                ssl=True,
                verify_server_cert=False,
                tls_version="TLSv1.1,TLSv1.2",
            ),
        ),
    )


@persona
def mysql80_old_replica_plain(anchors, name):
    """8.0.21 (before CHANGE REPLICATION SOURCE TO) with a channel set by
    CHANGE MASTER TO MASTER_SSL=0: replication.unencrypted, fixed with CHANGE MASTER TO."""
    return PersonaSpec(
        "mysql80_old_replica_plain",
        version="8.0.21",
        certificate=_leaf(anchors, name),
        require_secure_transport=True,
        channels=(Channel("", endpoint_name("mysql80_enforced"), ssl=False),),
    )


@persona
def mysql80_old_replica_tls(anchors, name):
    """8.0.18: replication_connection_configuration has no TLS_CIPHERSUITES yet (1054); a
    channel with SSL on, verified, and the client library's default versions, which before
    8.0.28 still include TLS 1.0/1.1: replication.legacy_tls."""
    return PersonaSpec(
        "mysql80_old_replica_tls",
        version="8.0.18",
        certificate=_leaf(anchors, name),
        require_secure_transport=True,
        channels=(
            Channel(
                "",
                endpoint_name("mysql80_enforced"),
                ssl=True,
                verify_server_cert=True,
                ssl_ca="/etc/mysql/source-ca.pem",
            ),
        ),
    )


@persona
def mysql80_checker_without_grants(anchors, name):
    """The checker account has no PROCESS, REPLICATION CLIENT or SELECT grants: mysql.user and
    the performance_schema tables answer 1142, and what they hold stays unknown."""
    return PersonaSpec(
        "mysql80_checker_without_grants",
        certificate=_leaf(anchors, name),
        require_secure_transport=True,
        checker_privileges=(),
        checker_selects=(),
        channels=(Channel("hidden", endpoint_name("mysql80_enforced"), ssl=False),),
    )


@persona
def mysql80_replica_ccm8(anchors, name):
    """A verified channel restricted to TLS 1.3 and TLS_AES_128_CCM_8_SHA256
    (SOURCE_TLS_VERSION='TLSv1.3', SOURCE_TLS_CIPHERSUITES='TLS_AES_128_CCM_8_SHA256',
    WL#13392's example): read and shown as such, no replication finding."""
    return PersonaSpec(
        "mysql80_replica_ccm8",
        certificate=_leaf(anchors, name),
        require_secure_transport=True,
        channels=(
            Channel(
                "ccm8",
                endpoint_name("mysql80_enforced"),
                ssl=True,
                verify_server_cert=True,
                ssl_ca="/etc/mysql/source-ca.pem",
                tls_version="TLSv1.3",
                tls_ciphersuites=CCM_8,
            ),
        ),
    )


@persona
def mysql80_tls13_ccm8(anchors, name):
    """The server itself on TLS 1.3 only with tls_ciphersuites=TLS_AES_128_CCM_8_SHA256: an
    ordinary client (OpenSSL's default suites) cannot complete a handshake."""
    return PersonaSpec(
        "mysql80_tls13_ccm8",
        certificate=_leaf(anchors, name),
        require_secure_transport=True,
        tls_version="TLSv1.3",
        tls_ciphersuites=CCM_8,
    )


@persona
def mysql80_gr_recovery_plain(anchors, name):
    """Group Replication with group_replication_recovery_use_ssl=OFF."""
    return PersonaSpec(
        "mysql80_gr_recovery_plain",
        certificate=_leaf(anchors, name),
        require_secure_transport=True,
        group_replication=_gr(recovery_use_ssl="OFF"),
        group_members=_members(name),
    )


@persona
def mysql80_gr_recovery_tls11(anchors, name):
    """Group Replication recovery on TLSv1.1 (group_replication_recovery_tls_version)."""
    return PersonaSpec(
        "mysql80_gr_recovery_tls11",
        certificate=_leaf(anchors, name),
        require_secure_transport=True,
        group_replication=_gr(recovery_tls_version="TLSv1.1"),
        group_members=_members(name),
    )


@persona
def mysql80_gr_ssl_disabled(anchors, name):
    """group_replication_ssl_mode=DISABLED: members talk to each other without TLS."""
    return PersonaSpec(
        "mysql80_gr_ssl_disabled",
        certificate=_leaf(anchors, name),
        require_secure_transport=True,
        group_replication=_gr(ssl_mode="DISABLED"),
        group_members=_members(name),
    )


@persona
def mysql84_enforced(anchors, name):
    """8.4.3: have_ssl, have_openssl and default_authentication_plugin are gone, SHOW SLAVE
    STATUS is a syntax error, mysql_native_password is not loaded; Group Replication with
    ssl_mode=REQUIRED and recovery over TLS 1.2/1.3."""
    return PersonaSpec(
        "mysql84_enforced",
        version="8.4.3",
        certificate=_leaf(anchors, name),
        require_secure_transport=True,
        accounts_without_ssl=False,
        canary_plugin="caching_sha2_password",
        group_replication=_gr(recovery_ssl_verify_server_cert="ON"),
        group_members=_members(name),
        client_threads=_CLIENTS,
    )


@persona
def mysql80_auto_cert(anchors, name):
    """The certificate mysqld generates itself when it finds none (auto_generate_certs):
    CN=MySQL_Server_8.0.39_Auto_Generated_Server_Certificate, issued by its own generated CA,
    naming no host. cert.self_signed."""
    ca = make_ca("MySQL_Server_8.0.39_Auto_Generated_CA_Certificate")
    return PersonaSpec(
        "mysql80_auto_cert",
        certificate=make_server_cert(
            [], issuer=ca, common_name="MySQL_Server_8.0.39_Auto_Generated_Server_Certificate"
        ),
    )


def build_mysql8_specs(anchors: TrustAnchors, names: list[str] | None = None) -> list[PersonaSpec]:
    chosen = names or list(MYSQL8_SCENARIOS)
    return [MYSQL8_SCENARIOS[n](anchors, endpoint_name(n)) for n in chosen]
