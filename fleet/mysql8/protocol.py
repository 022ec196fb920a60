"""MySQL client/server protocol, server side: packets, the greeting, OK/ERR/EOF, result sets,
and the two password plugins MySQL 8 uses (caching_sha2_password, mysql_native_password).

Written from the protocol documentation (MySQL "Client/Server Protocol" pages:
Protocol::HandshakeV10, Protocol::HandshakeResponse41, Protocol::SSLRequest, OK_Packet,
ERR_Packet, Text Resultset, caching_sha2_password's fast and full authentication).
"""

from __future__ import annotations

import hashlib
import secrets
import socket
import struct

# Capability flags (include/mysql_com.h names).
CLIENT_LONG_PASSWORD = 1
CLIENT_FOUND_ROWS = 1 << 1
CLIENT_LONG_FLAG = 1 << 2
CLIENT_CONNECT_WITH_DB = 1 << 3
CLIENT_NO_SCHEMA = 1 << 4
CLIENT_COMPRESS = 1 << 5
CLIENT_ODBC = 1 << 6
CLIENT_LOCAL_FILES = 1 << 7
CLIENT_IGNORE_SPACE = 1 << 8
CLIENT_PROTOCOL_41 = 1 << 9
CLIENT_INTERACTIVE = 1 << 10
CLIENT_SSL = 1 << 11
CLIENT_IGNORE_SIGPIPE = 1 << 12
CLIENT_TRANSACTIONS = 1 << 13
CLIENT_RESERVED = 1 << 14
CLIENT_SECURE_CONNECTION = 1 << 15
CLIENT_MULTI_STATEMENTS = 1 << 16
CLIENT_MULTI_RESULTS = 1 << 17
CLIENT_PS_MULTI_RESULTS = 1 << 18
CLIENT_PLUGIN_AUTH = 1 << 19
CLIENT_CONNECT_ATTRS = 1 << 20
CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 1 << 21
CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS = 1 << 22
CLIENT_SESSION_TRACK = 1 << 23
CLIENT_DEPRECATE_EOF = 1 << 24
CLIENT_OPTIONAL_RESULTSET_METADATA = 1 << 25
CLIENT_ZSTD_COMPRESSION = 1 << 26
CLIENT_QUERY_ATTRIBUTES = 1 << 27

# What a MySQL 8.0/8.4 server announces (0xDFFFFFFF less the compression and
# query-attribute bits, which the persona does not implement; a client only uses
# them when it asks). CLIENT_SSL only when it has a certificate.
SERVER_CAPABILITIES = (
    0xFFFFFFFF
    & ~(1 << 29)
    & ~CLIENT_COMPRESS
    & ~CLIENT_ZSTD_COMPRESSION
    & ~CLIENT_QUERY_ATTRIBUTES
    & ~CLIENT_OPTIONAL_RESULTSET_METADATA
    & ~(1 << 28)
    & ~(1 << 30)
    & ~(1 << 31)
)
SERVER_STATUS_AUTOCOMMIT = 0x0002
UTF8MB4_0900_AI_CI = 255
UTF8MB3_GENERAL_CI = 33
BINARY = 63

COM_QUIT = 0x01
COM_INIT_DB = 0x02
COM_QUERY = 0x03
COM_PING = 0x0E
COM_RESET_CONNECTION = 0x1F

# caching_sha2_password's answers after the scramble.
FAST_AUTH_OK = 3
PERFORM_FULL_AUTHENTICATION = 4

# Column types (enum_field_types) and flags.
TYPE_DOUBLE = 0x05
TYPE_LONG = 0x03
TYPE_LONGLONG = 0x08
TYPE_BLOB = 0xFC
TYPE_VAR_STRING = 0xFD
TYPE_STRING = 0xFE
NOT_NULL_FLAG = 1
BLOB_FLAG = 16
UNSIGNED_FLAG = 32
BINARY_FLAG = 128
ENUM_FLAG = 256


class ClientGone(Exception):
    """The client closed the connection (or sent nothing readable)."""


class Packets:
    """Sequence-numbered packets over a socket (plain or TLS)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.sequence = 0

    def read(self) -> bytes:
        header = self._exact(4)
        length = int.from_bytes(header[:3], "little")
        self.sequence = (header[3] + 1) & 0xFF
        return self._exact(length) if length else b""

    def write(self, payload: bytes) -> None:
        self.sock.sendall(len(payload).to_bytes(3, "little") + bytes([self.sequence]) + payload)
        self.sequence = (self.sequence + 1) & 0xFF

    def _exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ClientGone()
            data += chunk
        return data


def lenenc_int(value: int) -> bytes:
    if value < 251:
        return bytes([value])
    if value < 1 << 16:
        return b"\xfc" + value.to_bytes(2, "little")
    if value < 1 << 24:
        return b"\xfd" + value.to_bytes(3, "little")
    return b"\xfe" + value.to_bytes(8, "little")


def lenenc_str(value: bytes) -> bytes:
    return lenenc_int(len(value)) + value


def read_lenenc_int(data: bytes, at: int) -> tuple[int, int]:
    first = data[at]
    if first < 251:
        return first, at + 1
    size = {0xFC: 2, 0xFD: 3, 0xFE: 8}[first]
    return int.from_bytes(data[at + 1 : at + 1 + size], "little"), at + 1 + size


def new_scramble() -> bytes:
    """20 bytes of auth data without NULs (MySQL avoids them, clients cut at the first)."""
    return bytes(33 + b % 94 for b in secrets.token_bytes(20))


def greeting(version: str, connection_id: int, scramble: bytes, *, tls: bool, plugin: str):
    capabilities = SERVER_CAPABILITIES if tls else SERVER_CAPABILITIES & ~CLIENT_SSL
    return (
        b"\x0a"
        + version.encode() + b"\0"
        + struct.pack("<I", connection_id)
        + scramble[:8] + b"\0"
        + struct.pack("<H", capabilities & 0xFFFF)
        + bytes([UTF8MB4_0900_AI_CI])
        + struct.pack("<H", SERVER_STATUS_AUTOCOMMIT)
        + struct.pack("<H", capabilities >> 16)
        + bytes([len(scramble) + 1])
        + b"\0" * 10
        + scramble[8:] + b"\0"
        + plugin.encode() + b"\0"
    )  # fmt: skip


def ok_packet(*, eof: bool = False) -> bytes:
    header = b"\xfe" if eof else b"\x00"
    return header + lenenc_int(0) + lenenc_int(0) + struct.pack("<HH", SERVER_STATUS_AUTOCOMMIT, 0)


def eof_packet() -> bytes:
    return b"\xfe" + struct.pack("<HH", 0, SERVER_STATUS_AUTOCOMMIT)


def err_packet(code: int, sqlstate: str, message: str, *, with_state: bool = True) -> bytes:
    state = ("#" + sqlstate).encode() if with_state else b""
    return b"\xff" + struct.pack("<H", code) + state + message.encode()


def _column_type(mysql_type: str) -> tuple[int, int, int, int]:
    """(type code, flags, length, charset) of a MySQL column type."""
    kind = mysql_type.split("(")[0].split()[0].lower()
    unsigned = UNSIGNED_FLAG if "unsigned" in mysql_type.lower() else 0
    if kind in ("int", "tinyint", "smallint"):
        return TYPE_LONG, unsigned, 11, BINARY
    if kind == "bigint":
        return TYPE_LONGLONG, unsigned, 20, BINARY
    if kind in ("double", "float"):
        return TYPE_DOUBLE, 0, 22, BINARY
    if kind == "enum":
        return TYPE_STRING, ENUM_FLAG, 40, UTF8MB3_GENERAL_CI
    if kind in ("text", "longtext"):
        return TYPE_BLOB, BLOB_FLAG, 4294967295, UTF8MB3_GENERAL_CI
    if kind == "blob":
        return TYPE_BLOB, BLOB_FLAG | BINARY_FLAG, 65535, BINARY
    length = int(mysql_type.split("(")[1].split(")")[0]) * 3 if "(" in mysql_type else 3072
    return (TYPE_STRING if kind == "char" else TYPE_VAR_STRING), 0, length, UTF8MB3_GENERAL_CI


def column_definition(name: str, mysql_type: str, table: str, *, nullable: bool) -> bytes:
    code, flags, length, charset = _column_type(mysql_type)
    if not nullable:
        flags |= NOT_NULL_FLAG
    schema = b"performance_schema" if table and table != "user" else b""
    return (
        lenenc_str(b"def")
        + lenenc_str(schema)
        + lenenc_str(table.encode())
        + lenenc_str(table.encode())
        + lenenc_str(name.encode())
        + lenenc_str(name.encode())
        + b"\x0c"
        + struct.pack("<HIBHB", charset, length, code, flags, 0)
        + b"\0\0"
    )


def text_row(values) -> bytes:
    out = b""
    for value in values:
        if value is None:
            out += b"\xfb"
        else:
            text = f"{value:.3f}" if isinstance(value, float) else str(value)
            out += lenenc_str(text.encode())
    return out


# -- password plugins ---------------------------------------------------------------------


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def native_password_ok(password: str, scramble: bytes, answer: bytes) -> bool:
    """mysql_native_password: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw)))."""
    if not password:
        return answer == b""
    stage1 = hashlib.sha1(password.encode()).digest()  # noqa: S324 - the plugin's own hash
    stage2 = hashlib.sha1(stage1).digest()  # noqa: S324
    expected = _xor(stage1, hashlib.sha1(scramble[:20] + stage2).digest())  # noqa: S324
    return secrets.compare_digest(expected, answer)


def caching_sha2_scramble_ok(password: str, scramble: bytes, answer: bytes) -> bool:
    """caching_sha2_password fast path: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce)."""
    if not password:
        return answer == b""
    p1 = hashlib.sha256(password.encode()).digest()
    p2 = hashlib.sha256(p1).digest()
    expected = _xor(p1, hashlib.sha256(p2 + scramble[:20]).digest())
    return secrets.compare_digest(expected, answer)
