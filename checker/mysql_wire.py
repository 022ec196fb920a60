"""The MySQL connection phase up to the TLS switch: greeting, ERR packet, SSLRequest.

Only what a credential-less probe needs (docs/reference/mysql-tls.md "Wire: credential-less
probe"). Anything that is not a well-formed MySQL answer becomes a `WireError` whose message
says what the server seemed to be instead, so a run reports "an HTTP server" rather than a
traceback.

Pure module: no Django imports.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from checker.deadline import Deadline, DeadlineReached

CLIENT_LONG_PASSWORD = 0x00000001
CLIENT_PROTOCOL_41 = 0x00000200
CLIENT_SSL = 0x00000800
CLIENT_SECURE_CONNECTION = 0x00008000
CLIENT_PLUGIN_AUTH = 0x00080000

# A greeting is a few hundred bytes; anything near this is not a MySQL server talking.
MAX_GREETING = 16 * 1024
_UTF8MB4_GENERAL_CI = 45
_MAX_PACKET = 16 * 1024 * 1024

# Kinds of WireError, so callers can tell a stall from a refusal from noise.
TIMEOUT = "timeout"
CLOSED = "closed"
RESET = "reset"
GARBAGE = "garbage"
UNREACHABLE = "unreachable"


class WireError(Exception):
    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True)
class Greeting:
    protocol: int
    server_version: str
    connection_id: int
    capabilities: int

    @property
    def tls_offered(self) -> bool:
        return bool(self.capabilities & CLIENT_SSL)

    @property
    def flavour(self) -> str:
        return flavour_of(self.server_version)


@dataclass(frozen=True)
class ServerError:
    """An ERR packet where a greeting belongs, e.g. 1129 host blocked."""

    code: int
    message: str

    def describe(self) -> str:
        return f"server refused the connection with error {self.code}: {self.message}"


def flavour_of(version: str) -> str:
    """mariadb | mysql | unknown, from the version string (MariaDB may prefix `5.5.5-`)."""
    if "mariadb" in version.lower():
        return "mariadb"
    if version[:1].isdigit():
        return "mysql"
    return "unknown"


def connect(address: tuple[str, int], deadline: Deadline, connect_timeout: float) -> socket.socket:
    timeout = deadline.timeout(connect_timeout)
    try:
        sock = socket.create_connection(address, timeout=timeout)
    except TimeoutError:
        if timeout < connect_timeout:  # the target's deadline, not the connect timeout, ran out
            raise DeadlineReached(f"deadline of {deadline.seconds:g} s reached") from None
        raise WireError(UNREACHABLE, f"no TCP connection within {connect_timeout:g} s") from None
    except ConnectionRefusedError:
        raise WireError(UNREACHABLE, "connection refused") from None
    except ConnectionResetError:  # a reset that beat connect() home: the same server answer
        raise WireError(RESET, "connection reset by the server") from None
    except OSError as exc:
        raise WireError(UNREACHABLE, f"cannot connect: {exc.strerror or exc}") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exact(sock: socket.socket, size: int, deadline: Deadline, read_timeout: float) -> bytes:
    """Exactly `size` bytes, or a WireError saying why not (stall, close, reset)."""
    chunks, received = [], 0
    while received < size:
        sock.settimeout(deadline.timeout(read_timeout))
        try:
            chunk = sock.recv(size - received)
        except TimeoutError:
            raise WireError(TIMEOUT, f"no answer within {read_timeout:g} s") from None
        except ConnectionResetError:
            raise WireError(RESET, "connection reset by the server") from None
        except OSError as exc:
            raise WireError(RESET, f"connection failed: {exc.strerror or exc}") from None
        if not chunk:
            raise WireError(CLOSED, _closed_after(received, chunks))
        chunks.append(chunk)
        received += len(chunk)
    return b"".join(chunks)


def _closed_after(received: int, chunks: list[bytes]) -> str:
    if not received:
        return "the server closed the connection without a word"
    return f"the server closed the connection after {received} bytes ({describe_bytes(chunks)})"


def read_greeting(
    sock: socket.socket, deadline: Deadline, read_timeout: float
) -> Greeting | ServerError:
    try:
        header = recv_exact(sock, 4, deadline, read_timeout)
    except WireError as exc:
        if exc.kind == TIMEOUT:
            raise WireError(
                TIMEOUT,
                f"no MySQL greeting within {read_timeout:g} s (the service waits for the "
                "client to speak: not a MySQL server, or a stalled one)",
            ) from None
        raise
    length = int.from_bytes(header[:3], "little")
    if length == 0 or length > MAX_GREETING or header[3] != 0:
        raise WireError(GARBAGE, f"not a MySQL greeting: {describe_bytes([header, _peek(sock)])}")
    payload = recv_exact(sock, length, deadline, read_timeout)
    if payload[0] == 0xFF:
        return parse_error(payload)
    if payload[0] != 10:
        raise WireError(
            GARBAGE,
            f"unsupported MySQL protocol version {payload[0]} "
            f"({describe_bytes([header, payload])})",
        )
    return parse_greeting(payload)


def parse_error(payload: bytes) -> ServerError:
    """ERR packet: 0xff, code, '#' + SQLSTATE (absent before the greeting), message."""
    if len(payload) < 3:
        raise WireError(GARBAGE, "truncated MySQL error packet")
    code = int.from_bytes(payload[1:3], "little")
    rest = payload[3:]
    if rest[:1] == b"#" and len(rest) >= 6:
        rest = rest[6:]
    return ServerError(code=code, message=rest.decode("utf-8", "replace").strip())


def parse_greeting(payload: bytes) -> Greeting:
    end = payload.find(b"\0", 1, 256)
    if end < 0:
        raise WireError(GARBAGE, "MySQL greeting without a version string")
    raw_version = payload[1:end]
    if not raw_version or not all(32 <= b < 127 for b in raw_version):
        raise WireError(GARBAGE, "MySQL greeting with an unreadable version string")
    fixed = payload[end + 1 :]
    # connection id (4), auth data part 1 (8), filler (1), capability flags low (2)
    if len(fixed) < 15:
        raise WireError(GARBAGE, "truncated MySQL greeting")
    connection_id = struct.unpack_from("<I", fixed, 0)[0]
    capabilities = struct.unpack_from("<H", fixed, 13)[0]
    # charset (1), status (2), capability flags high (2): optional in old servers
    if len(fixed) >= 20:
        capabilities |= struct.unpack_from("<H", fixed, 18)[0] << 16
    return Greeting(
        protocol=10,
        server_version=raw_version.decode("ascii"),
        connection_id=connection_id,
        capabilities=capabilities,
    )


def ssl_request() -> bytes:
    """The SSLRequest packet (sequence 1): after it, the client starts the TLS handshake."""
    flags = (
        CLIENT_LONG_PASSWORD
        | CLIENT_PROTOCOL_41
        | CLIENT_SSL
        | CLIENT_SECURE_CONNECTION
        | CLIENT_PLUGIN_AUTH
    )
    payload = struct.pack("<IIB23s", flags, _MAX_PACKET, _UTF8MB4_GENERAL_CI, b"")
    return len(payload).to_bytes(3, "little") + b"\x01" + payload


def _peek(sock: socket.socket) -> bytes:
    """A few more bytes, only to name what the service is; never waits long."""
    try:
        sock.settimeout(0.2)
        return sock.recv(60)
    except OSError:
        return b""


_SIGNATURES = (
    (b"HTTP/", "an HTTP server"),
    (b"SSH-", "an SSH server"),
    (b"\x16\x03", "a TLS server that expects TLS at once, not a MySQL greeting"),
    (b"\x15\x03", "a TLS alert before any MySQL greeting"),
    (b"220", "an SMTP or FTP server"),
    (b"+OK", "a POP3 server"),
    (b"* OK", "an IMAP server"),
    (b"-ERR", "a Redis server"),
    (b"R\x00\x00\x00", "a PostgreSQL server"),
)


def describe_bytes(chunks: list[bytes]) -> str:
    data = b"".join(chunks)
    for prefix, what in _SIGNATURES:
        if data.startswith(prefix):
            return f"looks like {what}"
    return f"unrecognised bytes {data[:16].hex(' ')}"
