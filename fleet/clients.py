"""Servers that watch their clients, and the clients that connect to them.

A server started with performance_schema ON shows each client connection's TLS; one with
it OFF (MariaDB's default) shows only the global counters (docs/reference/mysql-tls.md
"Client connections and their TLS"). The clients are real PyMySQL connections in plaintext,
on TLS 1.2 and on TLS 1.0 (a legacy client context), as applications in the field connect.
Used by the tests and the demo; not part of the product.
"""

from __future__ import annotations

import contextlib
import ssl
import threading

import pymysql

from fleet.mariadb import MariaDBServer, ServerSpec
from fleet.scenarios import TrustAnchors, _leaf, endpoint_name

# The versions a client may still meet in the field: the server allows TLS 1.0 and 1.1,
# and OpenSSL's security level is lowered so that a TLS 1.0 handshake can complete.
_ALL_VERSIONS = "TLSv1.0,TLSv1.1,TLSv1.2,TLSv1.3"

PLAINTEXT = "plaintext"
TLS12 = "TLSv1.2"
TLS10 = "TLSv1.0"


def watched_spec(anchors: TrustAnchors, name: str = "watched", **options) -> ServerSpec:
    """TLS not enforced, every version allowed, performance_schema ON."""
    return ServerSpec(
        name,
        certificate=_leaf(anchors, endpoint_name(name)),
        tls_version=_ALL_VERSIONS,
        permissive_openssl=True,
        performance_schema=True,
        **options,
    )


def unwatched_spec(anchors: TrustAnchors, name: str = "unwatched", **options) -> ServerSpec:
    """The same server with MariaDB's default: performance_schema OFF."""
    return ServerSpec(
        name,
        certificate=_leaf(anchors, endpoint_name(name)),
        tls_version=_ALL_VERSIONS,
        permissive_openssl=True,
        **options,
    )


def client_context(how: str) -> ssl.SSLContext | None:
    """The TLS an application client uses: None for plaintext."""
    if how == PLAINTEXT:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # An application's own trust settings are not under test here; the checker's are.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if how == TLS10:
        context.set_ciphers("ALL:@SECLEVEL=0")
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1
    elif how == TLS12:
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    else:
        raise ValueError(f"unknown client kind {how!r}")
    return context


def create_app_account(server: MariaDBServer, username: str, password: str) -> None:
    server.query(f"CREATE OR REPLACE USER '{username}'@'%%' IDENTIFIED BY %s", [password])


def connect_client(
    server: MariaDBServer, username: str, password: str, how: str, *, source: str = "127.0.0.1"
) -> pymysql.Connection:
    """One application connection, from `source` (any 127.0.0.0/8 address)."""
    context = client_context(how)
    options = {"ssl": context} if context is not None else {"ssl_disabled": True}
    return pymysql.connect(
        host=server.host,
        port=server.port,
        user=username,
        password=password,
        bind_address=source,
        connect_timeout=5,
        read_timeout=5,
        **options,
    )


class ClientLoop:
    """A background application that connects every `every` seconds and stays connected a
    moment (the demo's clients); `stop()` ends it."""

    def __init__(self, connect, *, every: float = 20.0, hold: float = 5.0):
        self.connect, self.every, self.hold = connect, every, hold
        self._stop = threading.Event()
        self.connected = threading.Event()  # set once a connection has succeeded
        self._thread = threading.Thread(target=self._run, daemon=True, name="client-loop")

    def start(self) -> ClientLoop:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(pymysql.Error, OSError):
                conn = self.connect()
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT 1")
                    self.connected.set()
                    self._stop.wait(self.hold)
                finally:
                    conn.close()
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
