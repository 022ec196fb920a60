"""The persona's server process: `python -m fleet.mysql8.server <dir>`.

Reads `<dir>/persona.json` (the World plus where to listen) and `<dir>/tls/` (certificate
and key), listens on a loopback address, and speaks MySQL 8's connection phase and text
protocol over real TLS: greeting, SSLRequest, the TLS handshake with the configured
versions, TLS 1.2 ciphers and TLS 1.3 suites, the login with caching_sha2_password (fast
path and full authentication) or mysql_native_password, then COM_QUERY answered by
fleet/mysql8/sql.py.

The TLS 1.3 suites are not settable through Python's ssl module; the parent process
passes them (and the permissive floor legacy versions need) as an OpenSSL configuration
in OPENSSL_CONF, which OpenSSL applies to every context this process makes.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import socketserver
import ssl
import struct
import sys
import threading
import warnings
from datetime import UTC
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fleet.mysql8 import protocol as p
from fleet.mysql8.sql import Answerer, Connection, Error, Ok, Result
from fleet.mysql8.world import Account, World

_OPENSSL_NAMES = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.0": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
_STATUS_TLS_NAMES = {"TLSv1": "TLSv1", "TLSv1.1": "TLSv1.1", "TLSv1.2": "TLSv1.2"}


def tls_context(world: World, cert: Path, key: Path) -> ssl.SSLContext:
    """A server context with the world's versions and TLS 1.2 ciphers (TLS 1.3 suites:
    OPENSSL_CONF, see the module docstring)."""
    versions = [_OPENSSL_NAMES[v.strip()] for v in world.effective_tls_version.split(",")]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = min(versions)
    context.maximum_version = max(versions)
    legacy = min(versions) < ssl.TLSVersion.TLSv1_2
    ciphers = world.effective_ssl_cipher
    if (legacy or world.permissive_openssl) and "@SECLEVEL" not in ciphers:
        ciphers += ":@SECLEVEL=0"  # OpenSSL 3 refuses TLS 1.0/1.1 at the default level
    context.set_ciphers(ciphers)
    context.load_cert_chain(cert, key)
    return context


class PluginNotLoaded(Exception):
    """ER_PLUGIN_IS_NOT_LOADED (1524): the account's plugin is not loaded."""


class PersonaServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, world: World, context: ssl.SSLContext | None):
        self.world = world
        self.context = context
        self.ids = itertools.count(8)
        self.ids_lock = threading.Lock()
        # caching_sha2_password's cache: accounts whose full authentication succeeded.
        self.sha2_cache: set[str] = set()
        # Global counters as SHOW GLOBAL STATUS has them (Connections, Ssl_accepts,
        # Ssl_finished_accepts): every connection and TLS handshake this process served.
        self.counters = {"Connections": 0, "Ssl_accepts": 0, "Ssl_finished_accepts": 0}
        self.rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        super().__init__(address, Handler)

    def next_id(self) -> int:
        with self.ids_lock:
            self.counters["Connections"] += 1
            return next(self.ids)

    def count(self, name: str) -> None:
        with self.ids_lock:
            self.counters[name] += 1


class Handler(socketserver.BaseRequestHandler):
    server: PersonaServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(30)
        # A client that leaves, or sends what no MySQL client sends, just loses its connection.
        with contextlib.suppress(
            p.ClientGone, OSError, ssl.SSLError, ValueError, IndexError, struct.error
        ):
            self.session(sock)

    # -- connection phase ---------------------------------------------------------------

    def session(self, sock: socket.socket) -> None:
        world = self.server.world
        packets = p.Packets(sock)
        connection_id = self.server.next_id()
        scramble = p.new_scramble()
        packets.write(
            p.greeting(
                world.version,
                connection_id,
                scramble,
                tls=self.server.context is not None,
                plugin="caching_sha2_password",
            )
        )
        response = packets.read()
        capabilities = struct.unpack_from("<I", response, 0)[0]
        tls_version = tls_cipher = ""
        if capabilities & p.CLIENT_SSL and len(response) == 32:
            if self.server.context is None:
                return
            self.server.count("Ssl_accepts")
            sock = self.server.context.wrap_socket(sock, server_side=True)
            self.server.count("Ssl_finished_accepts")
            sequence = packets.sequence
            packets = p.Packets(sock)
            packets.sequence = sequence
            tls_version = _status_version(sock.version())
            tls_cipher = sock.cipher()[0]
            response = packets.read()
            capabilities = struct.unpack_from("<I", response, 0)[0]
        user, answer, plugin = _parse_response(response, capabilities)
        account = world.account(user)
        secure = bool(tls_version)
        peer = self.client_address[0]
        if account is None:
            packets.write(_access_denied(user, peer, secure))
            return
        try:
            authenticated = self.authenticate(packets, account, scramble, answer, plugin, secure)
        except PluginNotLoaded as missing:
            packets.write(p.err_packet(1524, "HY000", f"Plugin '{missing}' is not loaded"))
            return
        if not authenticated:
            packets.write(_access_denied(user, peer, secure))
            return
        # After the password, in acl_authenticate()'s order (sql/auth/sql_authentication.cc):
        # the account's REQUIRE SSL (1045), a locked account (3118), then
        # require_secure_transport (3159).
        if account.ssl_type and not secure:
            packets.write(_access_denied(user, peer, secure))
            return
        if account.locked:
            packets.write(
                p.err_packet(
                    3118, "HY000", f"Access denied for user '{user}'@'{peer}'. Account is locked."
                )
            )
            return
        if world.require_secure_transport and not secure:
            packets.write(
                p.err_packet(
                    3159,
                    "HY000",
                    "Connections using insecure transport are prohibited while "
                    "--require_secure_transport=ON.",
                )
            )
            return
        packets.write(p.ok_packet())
        conn = Connection(account, peer, tls_version, tls_cipher, connection_id)
        self.commands(packets, capabilities, Answerer(world, conn, self.status(conn)))

    def authenticate(self, packets, account: Account, scramble, answer, plugin, secure) -> bool:
        world = self.server.world
        wanted = account.plugin
        if wanted == "mysql_native_password" and world.is_84:
            # 8.4 does not load the plugin by default.
            raise PluginNotLoaded(wanted)
        if plugin != wanted:
            scramble = p.new_scramble()
            packets.write(b"\xfe" + wanted.encode() + b"\0" + scramble + b"\0")
            answer = packets.read()
        if wanted == "mysql_native_password":
            return p.native_password_ok(account.password, scramble, answer)
        if not p.caching_sha2_scramble_ok(account.password, scramble, answer):
            return False
        if account.user in self.server.sha2_cache or not account.password:
            packets.write(bytes([0x01, p.FAST_AUTH_OK]))
            return True
        packets.write(bytes([0x01, p.PERFORM_FULL_AUTHENTICATION]))
        reply = packets.read()
        if secure:
            password = reply.rstrip(b"\0").decode(errors="replace")
        else:
            password = self.rsa_exchange(packets, reply, scramble)
            if password is None:
                return False
        if password != account.password:
            return False
        self.server.sha2_cache.add(account.user)
        return True

    def rsa_exchange(self, packets, reply: bytes, scramble: bytes) -> str | None:
        """Full authentication without TLS: the password encrypted to the server's RSA key."""
        key = self.server.rsa_key
        if reply == b"\x02":  # the client asks for the public key
            pem = key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            packets.write(b"\x01" + pem)
            reply = packets.read()
        try:
            plain = key.decrypt(
                reply,
                padding.OAEP(
                    mgf=padding.MGF1(algorithm=hashes.SHA1()),  # noqa: S303 - the plugin's OAEP
                    algorithm=hashes.SHA1(),  # noqa: S303
                    label=None,
                ),
            )
        except ValueError:
            return None
        salt = scramble[:20]
        clear = bytes(b ^ salt[i % len(salt)] for i, b in enumerate(plain))
        return clear.rstrip(b"\0").decode(errors="replace")

    def status(self, conn: Connection) -> dict[str, str]:
        """SHOW SESSION STATUS: this connection's TLS and the server's certificate."""
        world = self.server.world
        has_tls = self.server.context is not None
        return {
            "Ssl_version": conn.tls_version,
            "Ssl_cipher": conn.tls_cipher,
            "Ssl_server_not_before": world.cert_not_before if has_tls else "",
            "Ssl_server_not_after": world.cert_not_after if has_tls else "",
            "Current_tls_version": world.effective_tls_version if has_tls else "",
            "Current_tls_cipher": world.ssl_cipher or "" if has_tls else "",
            "Current_tls_ciphersuites": world.tls_ciphersuites or "" if has_tls else "",
            "Current_tls_ca": world.ssl_ca if has_tls else "",
            "Current_tls_cert": world.ssl_cert if has_tls else "",
            "Current_tls_key": "server-key.pem" if has_tls else "",
            "Uptime": "3600",
            "Threads_connected": str(len(world.client_threads) + 1),
            **{name: str(value) for name, value in self.server.counters.items()},
        }

    # -- command phase ------------------------------------------------------------------

    def commands(self, packets: p.Packets, capabilities: int, answerer: Answerer) -> None:
        deprecate_eof = bool(capabilities & p.CLIENT_DEPRECATE_EOF)
        while True:
            packets.sequence = 0
            packet = packets.read()
            if not packet or packet[0] == p.COM_QUIT:
                return
            command = packet[0]
            if command in (p.COM_PING, p.COM_INIT_DB, p.COM_RESET_CONNECTION):
                packets.write(p.ok_packet())
                continue
            if command != p.COM_QUERY:
                packets.write(p.err_packet(1047, "08S01", "Unknown command"))
                continue
            try:
                outcome = answerer.answer(packet[1:].decode("utf-8", "replace"))
            except Error as error:
                packets.write(p.err_packet(error.code, error.sqlstate, error.message))
                continue
            if isinstance(outcome, Ok):
                packets.write(p.ok_packet())
            elif isinstance(outcome, Result):
                _send_result(packets, outcome, deprecate_eof)


def _send_result(packets: p.Packets, result: Result, deprecate_eof: bool) -> None:
    packets.write(p.lenenc_int(len(result.columns)))
    for index, (name, mysql_type, table) in enumerate(result.columns):
        nullable = any(row[index] is None for row in result.rows) or not result.rows
        packets.write(p.column_definition(name, mysql_type, table, nullable=nullable))
    if not deprecate_eof:
        packets.write(p.eof_packet())
    for row in result.rows:
        packets.write(p.text_row(row))
    packets.write(p.ok_packet(eof=True) if deprecate_eof else p.eof_packet())


def _status_version(version: str | None) -> str:
    # Ssl_version as MySQL prints it: TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 (OpenSSL's names).
    return version or ""


def _access_denied(user: str, host: str, secure: bool) -> bytes:
    return p.err_packet(
        1045, "28000", f"Access denied for user '{user}'@'{host}' (using password: YES)"
    )


def _parse_response(data: bytes, capabilities: int) -> tuple[str, bytes, str]:
    at = 32
    end = data.index(b"\0", at)
    user = data[at:end].decode(errors="replace")
    at = end + 1
    if capabilities & p.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA:
        size, at = p.read_lenenc_int(data, at)
    elif capabilities & p.CLIENT_SECURE_CONNECTION:
        size, at = data[at], at + 1
    else:
        size = data.index(b"\0", at) - at
    answer = data[at : at + size]
    at += size
    if capabilities & p.CLIENT_CONNECT_WITH_DB and at < len(data):
        at = data.index(b"\0", at) + 1
    plugin = ""
    if capabilities & p.CLIENT_PLUGIN_AUTH and at < len(data):
        end = data.find(b"\0", at)
        plugin = data[at : end if end >= 0 else len(data)].decode(errors="replace")
    return user, answer, plugin


def _certificate_dates(cert_path: Path) -> tuple[str, str]:
    """Ssl_server_not_before/after as MySQL prints them: 'Nov 29 23:00:00 2026 GMT'."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())

    def show(moment) -> str:
        moment = moment.astimezone(UTC)
        return f"{moment:%b} {moment.day:2d} {moment:%H:%M:%S %Y} GMT"

    return show(cert.not_valid_before_utc), show(cert.not_valid_after_utc)


def main(directory: str) -> None:
    # Legacy protocol versions are what some scenarios are about.
    warnings.filterwarnings("ignore", "ssl.TLSVersion", DeprecationWarning)
    base = Path(directory)
    config = json.loads((base / "persona.json").read_text())
    world = World.from_json(config["world"])
    context = None
    cert, key = base / "tls" / "server-cert.pem", base / "tls" / "server-key.pem"
    if cert.exists():
        world.cert_not_before, world.cert_not_after = _certificate_dates(cert)
        context = tls_context(world, cert, key)
    server = PersonaServer((config["host"], config["port"]), world, context)
    # Written whole, then renamed: the fleet reads the bound port from it.
    (base / "ready.tmp").write_text(str(server.server_address[1]))
    (base / "ready.tmp").rename(base / "ready")
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main(sys.argv[1])
