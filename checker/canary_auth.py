"""How the plaintext canary answers the server's authentication requests: never with its
password (docs/design.md "Secrets" and "Checker rules" 3;
docs/reference/mysql-tls.md "The plaintext canary").

The canary logs in without TLS on purpose. A challenge-response plugin (the native
password scramble, caching_sha2_password's fast path) keeps the password on the client; a
server may still ask for a plugin that sends the password itself — in clear
(`mysql_clear_password`, the `dialog` prompt) or encrypted to an RSA key the server chose
(`sha256_password`, and `caching_sha2_password` full authentication without TLS). Whoever
runs such a server, or sits in the middle of the plaintext connection, would get the
password. PyMySQL answers all of these by default; the handlers below, passed as its
`auth_plugin_map`, refuse them before a byte of the password leaves.

Pure module: no Django imports. Relies on PyMySQL's documented `auth_plugin_map` handler
protocol (`Handler(connection).authenticate(packet) -> packet`), and on the connection's
`write_packet`/`_read_packet`/`_secure`, pinned with PyMySQL in requirements.txt.
"""

from __future__ import annotations

from pymysql import _auth

# caching_sha2_password's one-byte answers after the scramble (0x01 marks extra data).
_FAST_AUTH_OK = 3
_FULL_AUTH_NEEDED = 4


class CanaryRefused(Exception):
    """The server asked for a plugin that would disclose the canary's password."""

    def __init__(self, plugin: str):
        super().__init__(f"canary refused: the server asked for {plugin}")
        self.plugin = plugin


def _refusing(plugin: str):
    class Refuse:
        def __init__(self, connection):
            pass

        def authenticate(self, packet):
            raise CanaryRefused(plugin)

        def prompt(self, echo, prompt):  # dialog's question-and-answer form
            raise CanaryRefused(plugin)

    Refuse.__name__ = f"Refuse_{plugin}"
    return Refuse


class _CachingSha2FastPathOnly:
    """caching_sha2_password: the scramble (fast path) yes, full authentication only in TLS."""

    def __init__(self, connection):
        self.connection = connection

    def authenticate(self, packet):
        conn = self.connection
        if packet.is_auth_switch_request():
            salt = packet.read_all()
            conn.salt = salt[:-1] if salt.endswith(b"\0") else salt
            conn.write_packet(_auth.scramble_caching_sha2(conn.password, conn.salt))
            packet = conn._read_packet()
        if packet.is_ok_packet():
            return packet
        if not packet.is_extra_auth_data():
            raise CanaryRefused("caching_sha2_password (an unexpected answer)")
        packet.advance(1)
        answer = packet.read_uint8()
        if answer == _FAST_AUTH_OK:
            packet = conn._read_packet()
            packet.check_error()
            return packet
        if answer == _FULL_AUTH_NEEDED and conn._secure:
            conn.write_packet(conn.password + b"\0")
            return conn._read_packet()
        raise CanaryRefused("caching_sha2_password full authentication")


DISCLOSING_PLUGINS = ("mysql_clear_password", "dialog", "sha256_password")


def canary_auth_plugins() -> dict:
    """PyMySQL's `auth_plugin_map` for the canary."""
    plugins = {name: _refusing(name) for name in DISCLOSING_PLUGINS}
    plugins["caching_sha2_password"] = _CachingSha2FastPathOnly
    return plugins
