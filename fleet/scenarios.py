"""The standard TLS scenarios: one real MariaDB server each, with known expectations.

Used by the test suite, the benchmarks and the demo. Every certificate names the
scenario's endpoint (`<name>.fleet.test` by default) so a VERIFY_IDENTITY check passes or
fails on the name, while the server itself listens on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from fleet.certs import Authority, make_ca, make_server_cert
from fleet.mariadb import ServerSpec

FLEET_DOMAIN = "fleet.test"


@dataclass(frozen=True)
class TrustAnchors:
    """The CA that signs fleet certificates, and an intermediate below it."""

    root: Authority
    intermediate: Authority

    @property
    def bundle_pem(self) -> bytes:
        return self.root.cert_pem


def make_trust_anchors() -> TrustAnchors:
    root = make_ca("tlsposture fleet root CA")
    return TrustAnchors(root=root, intermediate=make_ca("tlsposture fleet issuing CA", parent=root))


def endpoint_name(scenario: str, domain: str = FLEET_DOMAIN) -> str:
    return f"{scenario.replace('_', '-')}.{domain}"


def _leaf(anchors: TrustAnchors, name: str, **kwargs):
    return make_server_cert(
        [name], issuer=anchors.intermediate, chain=(anchors.intermediate.cert,), **kwargs
    )


# name -> builder(anchors, endpoint) -> ServerSpec. Expectations are in the docstrings.
SCENARIOS: dict[str, Callable[[TrustAnchors, str], ServerSpec]] = {}


def scenario(func):
    SCENARIOS[func.__name__] = func
    return func


@scenario
def enforced(anchors, name):
    """TLS 1.2/1.3 only, require_secure_transport=ON, a valid chain naming the endpoint."""
    return ServerSpec(
        "enforced",
        certificate=_leaf(anchors, name),
        require_secure_transport=True,
        accounts_without_ssl=False,
    )


@scenario
def optional(anchors, name):
    """TLS offered but not enforced, and an application account without REQUIRE SSL."""
    return ServerSpec("optional", certificate=_leaf(anchors, name))


@scenario
def legacy(anchors, name):
    """TLS 1.0–1.2 with `ALL:@SECLEVEL=0`: legacy protocols and anonymous suites accepted."""
    return ServerSpec(
        "legacy",
        certificate=_leaf(anchors, name),
        tls_version="TLSv1.0,TLSv1.1,TLSv1.2",
        ssl_cipher="ALL:@SECLEVEL=0",
        permissive_openssl=True,
    )


@scenario
def no_tls(anchors, name):
    """No certificate: have_ssl=DISABLED, no CLIENT_SSL in the greeting."""
    return ServerSpec("no_tls")


@scenario
def expired(anchors, name):
    """Enforced, but the server certificate expired ten days ago."""
    return ServerSpec(
        "expired",
        certificate=_leaf(anchors, name, expires_in=timedelta(days=-10)),
        require_secure_transport=True,
    )


@scenario
def expiring(anchors, name):
    """Enforced, certificate valid for five more days."""
    return ServerSpec(
        "expiring",
        certificate=_leaf(anchors, name, expires_in=timedelta(days=5)),
        require_secure_transport=True,
    )


@scenario
def weak_cert(anchors, name):
    """An RSA-1024 key signed with SHA-1."""
    return ServerSpec(
        "weak_cert",
        certificate=_leaf(anchors, name, key_type="rsa1024", signature_hash="sha1"),
        require_secure_transport=True,
    )


@scenario
def self_signed(anchors, name):
    """A self-signed certificate naming the endpoint."""
    return ServerSpec(
        "self_signed",
        certificate=make_server_cert([name], issuer=None),
        require_secure_transport=True,
    )


@scenario
def wrong_name(anchors, name):
    """A valid chain for a different host name."""
    return ServerSpec(
        "wrong_name",
        certificate=_leaf(anchors, f"other-host.{FLEET_DOMAIN}"),
        require_secure_transport=True,
    )


@scenario
def ec_key(anchors, name):
    """An EC P-256 certificate, TLS 1.3 only."""
    return ServerSpec(
        "ec_key",
        certificate=_leaf(anchors, name, key_type="ec256"),
        require_secure_transport=True,
        tls_version="TLSv1.3",
    )


@scenario
def replica(anchors, name):
    """Enforced TLS, and three replication channels as a replica may have them: `plain`
    (MASTER_SSL=0), `unverified` (TLS without verifying the source), `verified`. They are
    never started: SHOW ALL SLAVES STATUS shows their settings all the same."""

    def channel(connection: str, source: str, tls: str) -> str:
        # MariaDB refuses two connections to one source, so each names another scenario.
        return (
            f"CHANGE MASTER '{connection}' TO MASTER_HOST='{endpoint_name(source)}', "
            f"MASTER_PORT=3306, MASTER_USER='repl', {tls}"
        )

    return ServerSpec(
        "replica",
        certificate=_leaf(anchors, name),
        require_secure_transport=True,
        init_statements=(
            channel("plain", "legacy", "MASTER_SSL=0"),
            channel("unverified", "optional", "MASTER_SSL=1, MASTER_SSL_VERIFY_SERVER_CERT=0"),
            channel(
                "verified",
                "enforced",
                "MASTER_SSL=1, MASTER_SSL_CA='/etc/ssl/certs/ca-certificates.crt', "
                "MASTER_SSL_VERIFY_SERVER_CERT=1",
            ),
        ),
    )


def build_specs(
    anchors: TrustAnchors | None = None, names: list[str] | None = None
) -> tuple[TrustAnchors, list[ServerSpec]]:
    anchors = anchors or make_trust_anchors()
    chosen = names or list(SCENARIOS)
    return anchors, [SCENARIOS[n](anchors, endpoint_name(n)) for n in chosen]
