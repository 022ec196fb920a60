"""Fuzz targets for what a hostile or broken server can send the checker, and their seeds.

Each target feeds bytes to one parser the probe runs on server input — the MySQL greeting
and ERR packet (checker/mysql_wire.py), the TLS records of the server's first flight with
its ServerHello, Certificate message and alerts (checker/tls_hello.py), and certificate
description (checker/certificates.py) — and fails only when the parser breaks its contract:
raising anything but the errors it documents (WireError, TLSAnswerError), or, for
certificate description, raising at all.

Used by tests/fuzz (Hypothesis, a few seconds in the suite) and bench/fuzz.py (a long
mutation run). Seeds are well-formed messages, so mutations reach deep into each parser.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from functools import cache

from cryptography.hazmat.primitives import serialization

from checker import mysql_wire
from checker.certificates import describe_der, hostname_verdict, load
from checker.deadline import Deadline
from checker.mysql_wire import WireError
from checker.tls_hello import VERSION_CODES, TLSAnswerError, read_server_answer


class ContractBroken(AssertionError):
    """A parser did something its callers do not expect (the fuzzers' "crash")."""


# ---- targets ---------------------------------------------------------------------------


def greeting(data: bytes) -> None:
    """What a server sends first, read as the probe reads it: over a real socket."""
    server, client = socket.socketpair()
    try:
        server.sendall(data[:65536])
        server.close()
        try:
            answer = mysql_wire.read_greeting(client, Deadline(5.0), 1.0)
        except WireError:
            return
        if isinstance(answer, mysql_wire.ServerError):
            answer.describe()
            return
        if not isinstance(answer.server_version, str) or not answer.server_version:
            raise ContractBroken(f"greeting without a version: {answer!r}")
        _ = answer.tls_offered, answer.flavour
    finally:
        client.close()


def error_packet(data: bytes) -> None:
    """An ERR packet's payload where a greeting belongs (e.g. 1129 host blocked)."""
    try:
        error = mysql_wire.parse_error(data)
    except WireError:
        return
    if not isinstance(error.code, int) or not 0 <= error.code <= 0xFFFF:
        raise ContractBroken(f"error code {error.code!r}")
    error.describe()


def server_answer(data: bytes) -> None:
    """The server's first TLS flight after a ClientHello: records, ServerHello,
    Certificate, ServerHelloDone or an alert; then each certificate is described."""
    for want_certificates in (True, False):
        try:
            answer = read_server_answer(_receiver(data), want_certificates=want_certificates)
        except (WireError, TLSAnswerError):
            continue
        if answer.alert is not None:
            answer.alert_name  # noqa: B018 - the name of any alert number is readable
        elif answer.version not in VERSION_CODES and answer.version is not None:
            raise ContractBroken(f"version {answer.version!r}")
        for der in answer.certificates:
            certificate(der)


def certificate(data: bytes) -> None:
    """Certificate description never raises; the hostname verdict never raises on a
    certificate that parses."""
    info = describe_der(data)
    if not info.sha256_fingerprint:
        raise ContractBroken("a described certificate without its fingerprint")
    try:
        parsed = load(data)
    except ValueError:
        return
    try:
        hostname_verdict(parsed, "db.example.com")
    except ValueError:
        return  # names that do not decode: the probe turns this into a failed verdict


TARGETS: dict[str, Callable[[bytes], None]] = {
    "greeting": greeting,
    "error_packet": error_packet,
    "server_answer": server_answer,
    "certificate": certificate,
}


def _receiver(data: bytes) -> Callable[[int], bytes]:
    """recv(n) over `data`, as the probe's receiver: WireError when the server has closed."""
    view = memoryview(data)
    position = 0

    def recv(size: int) -> bytes:
        nonlocal position
        if position + size > len(view):
            raise WireError(mysql_wire.CLOSED, "the server closed the connection")
        chunk = bytes(view[position : position + size])
        position += size
        return chunk

    return recv


# ---- seeds -----------------------------------------------------------------------------


def _packet(payload: bytes, sequence: int = 0) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes([sequence]) + payload


def _greeting_payload(version: bytes = b"10.11.11-MariaDB", capabilities: int = 0xF7FF) -> bytes:
    return (
        b"\x0a"
        + version
        + b"\x00"
        + struct.pack("<I", 42)
        + b"abcdefgh\x00"
        + struct.pack("<H", capabilities & 0xFFFF)
        + b"\x2d"
        + struct.pack("<H", 2)
        + struct.pack("<H", capabilities >> 16)
        + b"\x15"
        + b"\x00" * 10
        + b"ijklmnopqrst\x00mysql_native_password\x00"
    )


def _record(content_type: int, body: bytes, version: int = 0x0303) -> bytes:
    return bytes([content_type]) + struct.pack(">HH", version, len(body)) + body


def _handshake(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + len(body).to_bytes(3, "big") + body


def _server_hello(version: int, suite: int, extensions: bytes = b"") -> bytes:
    body = struct.pack(">H", 0x0303 if version == 0x0304 else version) + b"\x11" * 32
    body += b"\x20" + b"\x22" * 32 + struct.pack(">H", suite) + b"\x00"
    if version == 0x0304:
        extensions += struct.pack(">HHH", 0x002B, 2, 0x0304)
    if extensions:
        body += struct.pack(">H", len(extensions)) + extensions
    return _handshake(2, body)


@cache
def _seed_certificate() -> bytes:
    from fleet.certs import make_ca, make_server_cert

    ca = make_ca("fuzz CA", key_type="ec256")
    leaf = make_server_cert(["db.example.com"], issuer=ca, key_type="ec256")
    return leaf.cert.public_bytes(serialization.Encoding.DER)


def _certificate_message(ders: list[bytes]) -> bytes:
    entries = b"".join(len(d).to_bytes(3, "big") + d for d in ders)
    return _handshake(11, len(entries).to_bytes(3, "big") + entries)


@cache
def seeds() -> dict[str, list[bytes]]:
    """Well-formed inputs per target, from which mutations start."""
    der = _seed_certificate()
    tls12 = _server_hello(0x0303, 0xC02F) + _certificate_message([der]) + _handshake(14, b"")
    return {
        "greeting": [
            _packet(_greeting_payload()),
            _packet(_greeting_payload(b"8.0.39", 0x00FF_F7FF)),
            _packet(b"\xff" + struct.pack("<H", 1129) + b"Host is blocked"),
            b"HTTP/1.1 400 Bad Request\r\n\r\n",
        ],
        "error_packet": [
            b"\xff" + struct.pack("<H", 1129) + b"Host '127.0.0.1' is blocked",
            b"\xff" + struct.pack("<H", 1045) + b"#28000Access denied",
        ],
        "server_answer": [
            _record(22, tls12),
            _record(22, _server_hello(0x0304, 0x1302)) + _record(20, b"\x01"),
            _record(21, b"\x02\x46"),  # protocol_version alert
            _record(22, _server_hello(0x0301, 0x002F))
            + _record(22, _certificate_message([der, der])),
            _packet(b"\xff" + struct.pack("<H", 1043) + b"#08S01Bad handshake"),
        ],
        "certificate": [der],
    }
