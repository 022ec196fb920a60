"""What an engine and version can do: TLS 1.3, require_secure_transport, parameter families.

Pure. The facts come from shared/reference (aws-rds.md, mysql-tls.md). Where the reference
does not settle a question the answer is None (unknown), never a guess.
"""

from __future__ import annotations

import re

_LEADING_NUMBER = re.compile(r"(\d+)(.*)")
# MariaDB's greeting prefixes its version so old clients accept it (reference/mysql-tls.md).
_MARIADB_GREETING_PREFIX = "5.5.5-"


def version_tuple(version: str | None) -> tuple[int, ...]:
    """`8.0.39` → (8, 0, 39); `5.5.5-10.11.9-MariaDB` → (10, 11, 9);
    Aurora `8.0.mysql_aurora.3.05.2` → (8, 0); `` → ()."""
    text = (version or "").strip()
    if text.startswith(_MARIADB_GREETING_PREFIX) and "mariadb" in text.lower():
        text = text[len(_MARIADB_GREETING_PREFIX) :]
    parts = []
    for token in text.split("."):
        match = _LEADING_NUMBER.fullmatch(token)
        if not match:
            break
        parts.append(int(match.group(1)))
        if match.group(2):
            break  # `9-MariaDB`: the number counts, the rest ends the version
    return tuple(parts)


def is_aurora(engine: str) -> bool:
    return engine.lower().startswith("aurora")


def is_mariadb(engine: str, server_version: str = "") -> bool:
    return "mariadb" in engine.lower() or "mariadb" in server_version.lower()


def parameter_group_family(engine: str, engine_version: str) -> str:
    """The AWS parameter group family (`mysql8.0`, `aurora-mysql8.0`, `mariadb10.11`)."""
    numbers = version_tuple(engine_version)
    if len(numbers) < 2:
        return "<family>"
    name = "aurora-mysql" if is_aurora(engine) else engine.lower()
    return f"{name}{numbers[0]}.{numbers[1]}"


def supports_require_secure_transport(engine: str, engine_version: str) -> bool | None:
    """MySQL 5.7+ and Aurora have it; MariaDB from 10.5.2 (reference/mysql-tls.md)."""
    numbers = version_tuple(engine_version)
    if not numbers:
        return None
    if is_mariadb(engine):
        return numbers >= (10, 5, 2)
    return numbers >= (5, 7)


def default_require_secure_transport(provider: str, engine: str, version: str) -> bool | None:
    """The engine default when the API states no value (reference/aws-rds.md)."""
    numbers = version_tuple(version)
    if not numbers:
        return None
    if is_mariadb(engine):
        # RDS MariaDB: OFF up to 11.4, ON from 11.8; community MariaDB: OFF.
        return provider == "aws" and numbers >= (11, 8)
    return False


_OPENSSL = re.compile(r"openssl\s+(\d+)\.(\d+)\.(\d+)", re.IGNORECASE)


def library_supports_tls13(version_ssl_library: str | None) -> bool | None:
    """OpenSSL ≥ 1.1.1 can speak TLS 1.3; another or unreadable library: unknown."""
    match = _OPENSSL.search(version_ssl_library or "")
    if not match:
        return None
    return tuple(int(n) for n in match.groups()) >= (1, 1, 1)


def supports_tls13(
    provider: str,
    engine: str,
    engine_version: str,
    *,
    server_version: str = "",
    ssl_library: str | None = None,
) -> bool | None:
    """Whether this server could offer TLS 1.3 (True/False), or None when nobody says.

    MySQL needs ≥ 8.0.16, MariaDB ≥ 10.4, both with OpenSSL ≥ 1.1.1. Without the library
    version from a session, only RDS MySQL 8.0/8.4 is known to offer it (aws-rds.md).
    """
    numbers = version_tuple(server_version) or version_tuple(engine_version)
    if not numbers:
        return None
    mariadb = is_mariadb(engine, server_version)
    engine_can = numbers >= (10, 4) if mariadb else numbers >= (8, 0, 16)
    if is_aurora(engine) and not server_version:
        # Aurora versions (8.0.mysql_aurora.3.x) only state the MySQL major and minor.
        engine_can = None if numbers >= (8, 0) else False
    if engine_can is False:
        return False
    library = library_supports_tls13(ssl_library)
    if library is False:
        return False
    if library:
        return engine_can
    if provider == "aws" and not mariadb and not is_aurora(engine) and engine_can:
        return True
    return None
