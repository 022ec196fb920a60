"""Normalisation of TLS parameter values, shared by every source and by the checker.

docs/design.md "Evidence and precedence": booleans `1 ON TRUE YES` / `0 OFF FALSE NO` in any case;
TLS version lists compare order-free with `TLSv1` equal to `TLSv1.0`.
"""

from __future__ import annotations

from common.engines import enforcement_parameters

_ON = {"1", "ON", "TRUE", "YES"}
_OFF = {"0", "OFF", "FALSE", "NO"}

# Canonical order from weakest to strongest; names as MySQL spells them.
TLS_VERSIONS = ("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_VERSION_ALIASES = {
    "SSLV3": "SSLv3",
    "SSLV3.0": "SSLv3",
    "TLSV1": "TLSv1.0",
    "TLSV1.0": "TLSv1.0",
    "TLSV1_0": "TLSv1.0",
    "TLSV1.1": "TLSv1.1",
    "TLSV1_1": "TLSv1.1",
    "TLSV1.2": "TLSv1.2",
    "TLSV1_2": "TLSv1.2",
    "TLSV1.3": "TLSv1.3",
    "TLSV1_3": "TLSv1.3",
}
LEGACY_TLS_VERSIONS = ("SSLv3", "TLSv1.0", "TLSv1.1")

# Parameters whose values we track, and how each one is normalised: every engine's
# enforcement parameter (common/engines.py) is a boolean.
TLS_PARAMETERS = (
    *sorted(enforcement_parameters()),
    "tls_version",
    "ssl_cipher",
    "tls_ciphersuites",
)


def normalise_bool(raw: object) -> bool | None:
    """`ON`/`1`/`true`/`yes` → True, `OFF`/`0`/`false`/`no` → False, anything else → None."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return {1: True, 0: False}.get(raw)
    value = str(raw).strip().upper()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    return None


def normalise_tls_version(raw: str) -> str | None:
    return _VERSION_ALIASES.get(raw.strip().upper())


def normalise_tls_versions(raw: object) -> list[str] | None:
    """A tls_version list in canonical order, unknown tokens kept verbatim at the end."""
    if raw is None:
        return None
    if isinstance(raw, list | tuple):
        tokens = [str(t) for t in raw]
    else:
        tokens = str(raw).replace(";", ",").replace(" ", ",").split(",")
    known, unknown = set(), []
    for token in (t.strip() for t in tokens):
        if not token:
            continue
        version = normalise_tls_version(token)
        if version:
            known.add(version)
        elif token not in unknown:
            unknown.append(token)
    return [v for v in TLS_VERSIONS if v in known] + unknown


def normalise_cipher_list(raw: object) -> str | None:
    """ssl_cipher / tls_ciphersuites: order matters to OpenSSL, so only whitespace is trimmed."""
    if raw is None:
        return None
    return ":".join(part.strip() for part in str(raw).strip().split(":") if part.strip())


def normalise_parameter(name: str, raw: object) -> object:
    """The normalised value of one tracked TLS parameter (None when it cannot be read)."""
    if raw is None:
        return None
    if name in enforcement_parameters():
        return normalise_bool(raw)
    if name == "tls_version":
        return normalise_tls_versions(raw)
    if name in ("ssl_cipher", "tls_ciphersuites"):
        return normalise_cipher_list(raw)
    return str(raw)


def same_parameter_value(name: str, left: object, right: object) -> bool:
    """Compare two normalised values: lists order-free, everything else by equality."""
    if name == "tls_version" and left is not None and right is not None:
        return set(left) == set(right)
    return left == right


def lowest_tls_version(versions: list[str] | None) -> str | None:
    ranked = [v for v in TLS_VERSIONS if versions and v in versions]
    return ranked[0] if ranked else None
