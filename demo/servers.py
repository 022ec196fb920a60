"""The demo's servers: one per `Server` of the world, on fixed loopback ports — a MySQL 8
persona (fleet/mysql8/) where the cloud lists MySQL 8.0, a real MariaDB otherwise.

Fixed ports keep the checker profiles (connect_port) the same from one run to the next;
a port that is taken falls back to a free one, and the profiles written for the run say
so. Data directories live under `<demo dir>/servers` and are kept between runs; the
servers themselves stop with the demo (and die with it even if it is killed).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from demo.certificates import Authorities, server_certificate
from demo.clients import persona_clients
from demo.world import DATABASES, SERVERS, Server, mysql8_version
from fleet.certs import ServerCertificate
from fleet.mariadb import Credentials, Fleet, ServerSpec, free_port
from fleet.mysql8.persona import PersonaSpec

FIRST_PORT = 3310


@dataclass(frozen=True)
class PreparedServer:
    server: Server
    spec: ServerSpec | PersonaSpec
    reused_certificate: bool
    moved_from: int | None  # the default port, when it was taken


def default_port(server: Server) -> int:
    return FIRST_PORT + SERVERS.index(server)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def certificate_names(
    server: Server, endpoints: dict[tuple[str, str], tuple[str, ...]]
) -> list[str]:
    """What the server's certificate names: every endpoint it answers for (or the override)."""
    if server.cert_names is not None:
        return list(server.cert_names)
    names: list[str] = []
    for db in DATABASES:
        if db.server != server.name:
            continue
        for identifier in db.endpoints:
            for name in endpoints[(db.account.name, identifier)]:
                if name not in names:
                    names.append(name)
    return names


def prepare(
    demo_dir: Path,
    endpoints: dict[tuple[str, str], tuple[str, ...]],
    cas: Authorities,
    *,
    fixed_ports: bool = True,
) -> list[PreparedServer]:
    """Certificates (minted or reused) and a port for every server of the world."""
    prepared = []
    for server in SERVERS:
        certificate: ServerCertificate | None = None
        reused = False
        if server.tls:
            names = certificate_names(server, endpoints)
            certificate, reused = server_certificate(
                demo_dir / "certs" / server.name, server, names, cas
            )
        port, moved_from = _port(server, fixed_ports)
        version = mysql8_version(server)
        if version is not None:
            prepared.append(
                PreparedServer(
                    server, _persona(server, version, certificate, port), reused, moved_from
                )
            )
            continue
        spec = ServerSpec(
            server.name,
            certificate=certificate,
            require_secure_transport=server.require_secure_transport,
            tls_version=server.tls_version,
            ssl_cipher=server.ssl_cipher,
            permissive_openssl=server.permissive_openssl,
            performance_schema=server.performance_schema,
            # Not enforced: an application account that may log in without TLS, as in
            # most real fleets that never enforced it.
            accounts_without_ssl=not server.require_secure_transport,
            port=port,
        )
        prepared.append(PreparedServer(server, spec, reused, moved_from))
    return prepared


def _persona(server: Server, version: str, certificate, port: int) -> PersonaSpec:
    """A MySQL 8 endpoint is a MySQL 8 on the wire: the persona, with the server's options."""
    return PersonaSpec(
        server.name,
        version=version,
        certificate=certificate,
        require_secure_transport=server.require_secure_transport,
        tls_version=server.tls_version,
        ssl_cipher=server.ssl_cipher,
        permissive_openssl=server.permissive_openssl,
        accounts_without_ssl=not server.require_secure_transport,
        port=port,
        channels=server.channels,
        group_replication=server.group_replication,
        client_threads=persona_clients(server),
    )


def _port(server: Server, fixed_ports: bool) -> tuple[int, int | None]:
    if not fixed_ports:
        return free_port(), None
    wanted = default_port(server)
    if port_is_free(wanted):
        return wanted, None
    return free_port(), wanted


def hold_closed_port(fixed_port: int | None) -> socket.socket:
    """A loopback port bound and never listened on, held while the demo runs: a connection
    to it is refused, as to an endpoint no checker has a network path to. The fixed port
    when it is free, else any."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", fixed_port or 0))
    except OSError:
        sock.bind(("127.0.0.1", 0))
    return sock


def start(demo_dir: Path, prepared: list[PreparedServer], passwords: dict[str, str]) -> Fleet:
    """Start every server; the checker logs in with its account's password (`passwords`:
    account name → password, generated for this run)."""
    fleet = Fleet([p.spec for p in prepared], base_dir=demo_dir / "servers", keep_data=True)
    for item in prepared:
        fleet[item.server.name].checker = Credentials(
            "tlsposture", passwords[item.server.account.name]
        )
    return fleet.start()
