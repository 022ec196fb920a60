"""Verify Alibaba Cloud V3 request signatures (ACS3-HMAC-SHA256) the way the gateway does.

Written from Alibaba's published signing procedure, so a local server can tell a request
that the real SDK signed with the right secret from one that a broken client sent:

    CanonicalRequest = method \\n path \\n sorted, RFC 3986-encoded query \\n
                       "name:value\\n" for each signed header \\n signed header names \\n
                       hex SHA-256 of the body (x-acs-content-sha256)
    StringToSign     = "ACS3-HMAC-SHA256" \\n hex SHA-256 of CanonicalRequest
    Signature        = hex HMAC-SHA256(AccessKeySecret, StringToSign)
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote

ALGORITHM = "ACS3-HMAC-SHA256"


@dataclass(frozen=True)
class Authorization:
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(header: str) -> Authorization | None:
    """`ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex` → parts, or None."""
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        return None
    parts = dict(item.strip().partition("=")[::2] for item in rest.split(","))
    if not parts.get("Credential") or not parts.get("Signature"):
        return None
    signed = tuple(h for h in parts.get("SignedHeaders", "").split(";") if h)
    return Authorization(parts["Credential"], signed, parts["Signature"])


def expected_signature(
    *,
    secret: str,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: dict[str, list[str]],
    signed_headers: tuple[str, ...],
) -> str:
    """The signature the request should carry. `headers` maps lower-case names to values."""
    canonical_query = "&".join(
        f"{key}={quote(value, safe='~')}" for key, value in sorted(query, key=lambda kv: kv[0])
    )
    canonical_headers = "".join(
        f"{name}:{','.join(sorted(v.strip() for v in headers.get(name, [])))}\n"
        for name in signed_headers
    )
    payload_hash = ",".join(headers.get("x-acs-content-sha256", []))
    canonical_request = "\n".join(
        [
            method,
            path or "/",
            canonical_query,
            canonical_headers,
            ";".join(signed_headers),
            payload_hash,
        ]
    )
    to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def signature_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
