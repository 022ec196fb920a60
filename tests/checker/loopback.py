"""Small misbehaving servers on loopback, each a real socket served by a thread.

They stand in for what a checker meets in the field: noise, resets, silence, other
protocols, MySQL servers that refuse or hang half-way, and a MySQL-speaking TLS server
with a certificate of our choosing.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
from collections.abc import Callable

CLIENT_SSL = 0x0800
CLIENT_PROTOCOL_41 = 0x0200
CLIENT_SECURE_CONNECTION = 0x8000
SSL_REQUEST_SIZE = 36  # header 4 + payload 32


def greeting(
    version: str = "8.0.39",
    *,
    tls: bool = True,
    plugin: str = "mysql_native_password",
    capabilities: int = 0,
) -> bytes:
    capabilities |= CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | (CLIENT_SSL if tls else 0)
    payload = (
        b"\x0a"
        + version.encode()
        + b"\0"
        + struct.pack("<I", 42)
        + b"abcdefgh\0"
        + struct.pack("<H", capabilities & 0xFFFF)
        + b"\x21"
        + struct.pack("<H", 2)
        + struct.pack("<H", capabilities >> 16)
        + b"\x15"
        + b"\0" * 10
        + b"ijklmnopqrst\0"
        + plugin.encode()
        + b"\0"
    )
    return len(payload).to_bytes(3, "little") + b"\x00" + payload


def error_packet(code: int, message: str) -> bytes:
    """An ERR packet as servers send it instead of a greeting (no SQLSTATE marker)."""
    payload = b"\xff" + code.to_bytes(2, "little") + message.encode()
    return len(payload).to_bytes(3, "little") + b"\x00" + payload


def recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


class LoopbackServer:
    """Accepts connections on 127.0.0.1 and hands each to `handler` in its own thread."""

    def __init__(self, handler: Callable[[socket.socket, LoopbackServer], None]):
        self.handler = handler
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.connections = 0
        self.open_now = 0
        self.most_open = 0
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def __enter__(self) -> LoopbackServer:
        self._accepter.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        with contextlib.suppress(OSError):
            self.listener.close()
        self._accepter.join(5)
        for thread in self._threads:
            thread.join(5)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with self.lock:
            self.connections += 1
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
        try:
            conn.settimeout(10)
            self.handler(conn, self)
        except (OSError, ssl.SSLError, ConnectionError):
            pass  # a probe hangs up mid-handshake on purpose
        finally:
            with self.lock:
                self.open_now -= 1
            with contextlib.suppress(OSError):
                conn.close()

    def hold(self, conn: socket.socket) -> None:
        """Keep the connection open and silent until the server stops."""
        while not self.stopping.wait(0.05):
            pass


# -- behaviours ---------------------------------------------------------------------------


def garbage(conn, server):
    conn.sendall(bytes(range(7, 80)))


def reset(conn, server):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def silent(conn, server):
    server.hold(conn)


def host_blocked(conn, server):
    conn.sendall(
        error_packet(
            1129,
            "Host '127.0.0.1' is blocked because of many connection errors; "
            "unblock with 'mariadb-admin flush-hosts'",
        )
    )


def no_ssl_greeting(conn, server):
    conn.sendall(greeting(tls=False))
    server.hold(conn)


def hangs_in_tls(conn, server):
    conn.sendall(greeting())
    recv_exactly(conn, SSL_REQUEST_SIZE)
    server.hold(conn)  # reads the ClientHello never, answers never


def closes_on_hello(conn, server):
    conn.sendall(greeting())
    recv_exactly(conn, SSL_REQUEST_SIZE)
    conn.recv(4096)


def mysql_tls(context: ssl.SSLContext, version: str = "8.0.39"):
    """A MySQL-speaking TLS server: greeting, SSLRequest, then a real handshake."""

    def serve(conn, server):
        conn.sendall(greeting(version))
        recv_exactly(conn, SSL_REQUEST_SIZE)
        with context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)

    return serve
