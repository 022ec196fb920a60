"""Hand-built ClientHellos and a reader for the server's first flight.

One ClientHello lists exactly the protocol version and suite ids a question is about; the
ServerHello (version and suite chosen) or the alert answers it without completing the
handshake. Below TLS 1.3 the server's Certificate message follows in clear, which is how
the probe sees intermediates that Python's ssl module does not expose.

Pure module: no Django imports.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import x25519

VERSION_CODES = {
    "SSLv3": 0x0300,
    "TLSv1.0": 0x0301,
    "TLSv1.1": 0x0302,
    "TLSv1.2": 0x0303,
    "TLSv1.3": 0x0304,
}
VERSION_NAMES = {code: name for name, code in VERSION_CODES.items()}

_HANDSHAKE, _ALERT, _CHANGE_CIPHER_SPEC, _APPLICATION_DATA = 22, 21, 20, 23
_CLIENT_HELLO, _SERVER_HELLO, _CERTIFICATE, _SERVER_HELLO_DONE = 1, 2, 11, 14
_MAX_RECORD = 2**14 + 2048
# A first flight with a long chain stays well below this; more is not a TLS server.
_MAX_FLIGHT = 256 * 1024
# ServerHello.random of a HelloRetryRequest (RFC 8446 4.1.3): TLS 1.3 chosen all the same.
_HELLO_RETRY_RANDOM = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
)

_EXT_SERVER_NAME = 0x0000
_EXT_SUPPORTED_GROUPS = 0x000A
_EXT_EC_POINT_FORMATS = 0x000B
_EXT_SIGNATURE_ALGORITHMS = 0x000D
_EXT_EXTENDED_MASTER_SECRET = 0x0017
_EXT_SUPPORTED_VERSIONS = 0x002B
_EXT_PSK_KEY_EXCHANGE_MODES = 0x002D
_EXT_KEY_SHARE = 0x0033
_EXT_RENEGOTIATION_INFO = 0xFF01

_X25519 = 0x001D
# x25519, secp256r1, secp384r1, secp521r1, x448, ffdhe2048, ffdhe3072
_GROUPS = (_X25519, 0x0017, 0x0018, 0x0019, 0x001E, 0x0100, 0x0101)
# Modern schemes first, then the SHA-1 ones a legacy certificate may need.
_SIGNATURE_SCHEMES = (
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806,
    0x0809, 0x080A, 0x080B, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301,
    0x0402, 0x0203, 0x0201, 0x0202,
)  # fmt: skip

ALERTS = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    40: "handshake_failure",
    42: "bad_certificate",
    43: "unsupported_certificate",
    47: "illegal_parameter",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    109: "missing_extension",
    110: "unsupported_extension",
    112: "unrecognized_name",
}
# Alerts by which a server declines what was offered (version or suites), as opposed to
# alerts that say our message was malformed or the server broke.
REFUSING_ALERTS = {40, 70, 71, 86}


class TLSAnswerError(Exception):
    """The server's bytes were not a usable TLS answer; the message says what they were."""


@dataclass
class ServerAnswer:
    alert: int | None = None  # set when the server refused with an alert
    version: str | None = None  # chosen version, e.g. "TLSv1.2"
    suite: int | None = None
    hello_retry: bool = False
    certificates: list[bytes] = field(default_factory=list)  # DER, leaf first (TLS ≤ 1.2)

    @property
    def alert_name(self) -> str:
        return ALERTS.get(self.alert, f"alert {self.alert}")


def _vector(data: bytes, length_bytes: int) -> bytes:
    return len(data).to_bytes(length_bytes, "big") + data


def _extension(kind: int, body: bytes) -> bytes:
    return struct.pack(">H", kind) + _vector(body, 2)


def _u16_list(values) -> bytes:
    return b"".join(struct.pack(">H", v) for v in values)


def _server_name(name: str | None) -> bytes:
    # SNI carries DNS names only; an IP literal is never sent (RFC 6066 section 3).
    if not name or name.replace(".", "").isdigit() or ":" in name:
        return b""
    entry = b"\x00" + _vector(name.encode("idna"), 2)
    return _extension(_EXT_SERVER_NAME, _vector(entry, 2))


def client_hello(version: str, suites: tuple[int, ...], server_name: str | None) -> bytes:
    """A complete TLS record holding a ClientHello for exactly this version and these suites."""
    code = VERSION_CODES[version]
    session_id = b""
    if version == "TLSv1.3":
        key_share = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
        extensions = (
            _server_name(server_name)
            + _extension(_EXT_SUPPORTED_VERSIONS, _vector(struct.pack(">H", code), 1))
            + _extension(_EXT_SUPPORTED_GROUPS, _vector(_u16_list(_GROUPS), 2))
            + _extension(_EXT_SIGNATURE_ALGORITHMS, _vector(_u16_list(_SIGNATURE_SCHEMES), 2))
            + _extension(
                _EXT_KEY_SHARE,
                _vector(struct.pack(">H", _X25519) + _vector(key_share, 2), 2),
            )
            + _extension(_EXT_PSK_KEY_EXCHANGE_MODES, b"\x01\x01")
        )
        # TLS 1.3 speaks as TLS 1.2 on the outside (RFC 8446 4.1.2, middlebox compatibility).
        code, session_id = VERSION_CODES["TLSv1.2"], os.urandom(32)
    elif version == "SSLv3":
        extensions = b""  # SSLv3 servers may choke on extensions
        suites = (*suites, 0x00FF)  # TLS_EMPTY_RENEGOTIATION_INFO_SCSV
    else:
        extensions = (
            _server_name(server_name)
            + _extension(_EXT_SUPPORTED_GROUPS, _vector(_u16_list(_GROUPS), 2))
            + _extension(_EXT_EC_POINT_FORMATS, b"\x01\x00")
            + _extension(_EXT_RENEGOTIATION_INFO, b"\x00")
            + _extension(_EXT_EXTENDED_MASTER_SECRET, b"")
        )
        if version == "TLSv1.2":
            extensions += _extension(
                _EXT_SIGNATURE_ALGORITHMS, _vector(_u16_list(_SIGNATURE_SCHEMES), 2)
            )
    body = (
        struct.pack(">H", code)
        + os.urandom(32)
        + _vector(session_id, 1)
        + _vector(_u16_list(suites), 2)
        + b"\x01\x00"  # compression: null only
        + (_vector(extensions, 2) if extensions else b"")
    )
    handshake = bytes([_CLIENT_HELLO]) + _vector(body, 3)
    record_version = 0x0300 if version == "SSLv3" else 0x0301
    return bytes([_HANDSHAKE]) + struct.pack(">H", record_version) + _vector(handshake, 2)


Receive = Callable[[int], bytes]


def read_server_answer(recv: Receive, *, want_certificates: bool) -> ServerAnswer:
    """Read records until the question is answered: an alert, or the ServerHello (and, when
    asked and the version sends it in clear, the Certificate message)."""
    answer = ServerAnswer()
    pending = b""  # handshake bytes not yet parsed into messages
    total = 0
    seen_hello = False
    while True:
        header = recv(5)
        content_type, record_version, length = header[0], header[1:3], int.from_bytes(header[3:5])
        if content_type not in (_HANDSHAKE, _ALERT, _CHANGE_CIPHER_SPEC, _APPLICATION_DATA) or (
            record_version[0] != 3
        ):
            raise TLSAnswerError(_not_tls(header, recv))
        if length > _MAX_RECORD or total + length > _MAX_FLIGHT:
            raise TLSAnswerError(f"TLS record of {length} bytes is beyond any sane size")
        body = recv(length)
        total += length
        if content_type == _ALERT:
            if seen_hello:
                return answer  # refused after the hello (e.g. the certificate): still answered
            if len(body) < 2:
                raise TLSAnswerError("truncated TLS alert")
            answer.alert = body[1]
            return answer
        if content_type != _HANDSHAKE:
            if seen_hello:
                return answer  # TLS 1.3: the rest of the flight is encrypted
            raise TLSAnswerError("encrypted TLS record before any ServerHello")
        pending += body
        while len(pending) >= 4:
            size = int.from_bytes(pending[1:4])
            if len(pending) < 4 + size:
                break
            kind, message, pending = pending[0], pending[4 : 4 + size], pending[4 + size :]
            if kind == _SERVER_HELLO:
                _parse_server_hello(message, answer)
                seen_hello = True
                if not want_certificates or answer.version == "TLSv1.3" or answer.hello_retry:
                    return answer
            elif not seen_hello:
                raise TLSAnswerError(f"handshake message {kind} before the ServerHello")
            elif kind == _CERTIFICATE:
                answer.certificates = _parse_certificates(message)
                return answer
            elif kind == _SERVER_HELLO_DONE:
                return answer  # anonymous suites send no certificate


def _parse_server_hello(message: bytes, answer: ServerAnswer) -> None:
    try:
        legacy_version, random = struct.unpack_from(">H32s", message, 0)
        offset = 34
        offset += 1 + message[offset]  # session id
        (suite,) = struct.unpack_from(">H", message, offset)
        offset += 3  # suite, compression method
        version = legacy_version
        if offset + 2 <= len(message):
            end = offset + 2 + int.from_bytes(message[offset : offset + 2])
            offset += 2
            while offset + 4 <= end:
                kind, size = struct.unpack_from(">HH", message, offset)
                if kind == _EXT_SUPPORTED_VERSIONS and size == 2:
                    (version,) = struct.unpack_from(">H", message, offset + 4)
                offset += 4 + size
    except (struct.error, IndexError):
        raise TLSAnswerError("malformed ServerHello") from None
    if version not in VERSION_NAMES:
        raise TLSAnswerError(f"ServerHello with unknown version 0x{version:04x}")
    answer.version = VERSION_NAMES[version]
    answer.suite = suite
    answer.hello_retry = random == _HELLO_RETRY_RANDOM


def _parse_certificates(message: bytes) -> list[bytes]:
    if len(message) < 3:
        raise TLSAnswerError("malformed Certificate message")
    end = 3 + int.from_bytes(message[:3])
    offset, certificates = 3, []
    while offset + 3 <= min(end, len(message)):
        size = int.from_bytes(message[offset : offset + 3])
        certificates.append(message[offset + 3 : offset + 3 + size])
        offset += 3 + size
    return certificates


def _not_tls(header: bytes, recv: Receive) -> str:
    """What came instead of TLS. A MySQL ERR packet is the usual case (e.g. 1043 bad
    handshake from a server that did not take the SSLRequest)."""
    length = int.from_bytes(header[:3], "little")
    if header[4] == 0xFF and 3 <= length <= 1024:
        try:
            rest = recv(length - 1)
        except Exception:
            rest = b""
        code = int.from_bytes(rest[:2], "little") if len(rest) >= 2 else None
        message = rest[2:]
        if message[:1] == b"#":
            message = message[6:]
        text = message.decode("utf-8", "replace").strip()
        return f"the server answered the TLS handshake with MySQL error {code}: {text}"
    return f"not a TLS answer: bytes {header.hex(' ')}"
