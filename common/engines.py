"""What an engine and version can do: one place for inventory, posture and fleet.

Families (the AWS parameter-group family), version parsing, which parameter enforces TLS
and since when, its default per engine and version (and where a managed platform's default
differs), TLS 1.3 support, the TLS 1.3 suites and the hosts that count as local.

Pure. The facts and the documentation that decides each are in docs/reference/mysql-tls.md
("Enforcement by engine and version") and docs/reference/aws-rds.md ("Defaults and limits").
Where the documentation does not settle a question the answer is None (unknown), never a
guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Accounts from these hosts are local: REQUIRE SSL does not matter for them (socket or
# loopback), so neither the session readout nor accounts.without_require_ssl counts them.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

# The TLS 1.3 suites by IANA id, named as OpenSSL names them. Every one is AEAD with an
# ephemeral key exchange.
TLS13_SUITES = {
    0x1301: "TLS_AES_128_GCM_SHA256",
    0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0x1304: "TLS_AES_128_CCM_SHA256",
    0x1305: "TLS_AES_128_CCM_8_SHA256",
}
# The three OpenSSL enables by default, which MySQL and MariaDB servers accept.
DEFAULT_TLS13_SUITES = tuple(TLS13_SUITES[i] for i in (0x1301, 0x1302, 0x1303))

_LEADING_NUMBER = re.compile(r"(\d+)(.*)")
# MariaDB's greeting prefixes its version so old clients accept it (docs/reference/mysql-tls.md).
_MARIADB_GREETING_PREFIX = "5.5.5-"
_FAMILY = re.compile(r"([a-z-]+?)(\d+(?:\.\d+)*)")


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


@dataclass(frozen=True)
class Enforcement:
    """The parameter that makes the server refuse connections without TLS.

    `since` is the first release that has it; `series` the first major.minor all of whose
    generally available releases have it, so that a bare `10.5` (a parameter-group family,
    an ApsaraDB version) can be answered: the GA releases of a series come after its
    pre-releases (MariaDB 10.5 went GA with 10.5.4, MySQL 5.7 with 5.7.9).
    """

    parameter: str
    since: tuple[int, ...]
    series: tuple[int, int]
    upgrade_to: str  # a supported series that has it, for an engine version that does not
    default: bool = False  # the engine's own default
    dynamic: bool = True  # a change applies without a restart


@dataclass(frozen=True)
class Engine:
    name: str  # as the cloud APIs name it, lower case
    label: str
    flavour: str  # whose server code runs: mysql | mariadb
    enforcement: Enforcement
    tls13_since: tuple[int, ...]  # with OpenSSL ≥ 1.1.1
    # Aurora versions (8.0.mysql_aurora.3.05.2) only state the MySQL major and minor.
    states_minor_only: bool = False


# MySQL added require_secure_transport in 5.7.8; MariaDB in 10.5.2 (MariaDB's system
# variable reference). Both default to OFF. TLS 1.3: MySQL 8.0.16, MariaDB 10.4.
_MYSQL_ENFORCEMENT = Enforcement("require_secure_transport", (5, 7, 8), (5, 7), "8.0")
ENGINES: dict[str, Engine] = {
    engine.name: engine
    for engine in (
        Engine("mysql", "MySQL", "mysql", _MYSQL_ENFORCEMENT, (8, 0, 16)),
        Engine(
            "mariadb",
            "MariaDB",
            "mariadb",
            Enforcement("require_secure_transport", (10, 5, 2), (10, 5), "10.6"),
            (10, 4),
        ),
        # Aurora MySQL 2 (5.7) and 3 (8.0) have it, in the cluster parameter group; Aurora
        # MySQL 1 (engine "aurora", MySQL 5.6) does not.
        Engine(
            "aurora-mysql",
            "Aurora MySQL",
            "mysql",
            _MYSQL_ENFORCEMENT,
            (8, 0, 16),
            states_minor_only=True,
        ),
        Engine(
            "aurora",
            "Aurora MySQL",
            "mysql",
            _MYSQL_ENFORCEMENT,
            (8, 0, 16),
            states_minor_only=True,
        ),
    )
}

# Where a managed platform's default differs from the engine's own, by provider, engine and
# parameter: (from version, value). Amazon RDS documents require_secure_transport ON by
# default for RDS for MariaDB 11.8 and later (OFF up to 11.4) and for RDS for MySQL 9.7
# (OFF for 8.4 and lower): docs/reference/aws-rds.md "Defaults and limits".
MANAGED_DEFAULTS: dict[tuple[str, str, str], tuple[tuple[int, ...], bool]] = {
    ("aws", "mariadb", "require_secure_transport"): ((11, 8), True),
    ("aws", "mysql", "require_secure_transport"): ((9, 7), True),
}
# Managed platforms known to build these engines with an OpenSSL that speaks TLS 1.3, so
# that TLS 1.3 is known without reading version_ssl_library (RDS for MySQL 8.0 and 8.4).
MANAGED_TLS13_LIBRARY = frozenset({("aws", "mysql")})


def is_aurora(engine: str) -> bool:
    return engine.lower().startswith("aurora")


def is_mariadb(engine: str, server_version: str = "") -> bool:
    return "mariadb" in engine.lower() or "mariadb" in server_version.lower()


def engine_named(engine: str, server_version: str = "") -> Engine | None:
    """The engine an API name (and, when known, the server's own version) stands for;
    None for an engine outside the MySQL family (nothing here is known about it)."""
    name = engine.lower()
    if name in ENGINES:
        found = ENGINES[name]
        if found.flavour == "mysql" and is_mariadb("", server_version):
            return ENGINES["mariadb"]
        return found
    if is_mariadb(name, server_version):
        return ENGINES["mariadb"]
    if name.startswith("aurora-mysql"):
        return ENGINES["aurora-mysql"]
    if name in ("", "mysql-proxy") or name.startswith("mysql"):
        return ENGINES["mysql"]
    return None


def parameter_group_family(engine: str, engine_version: str) -> str:
    """The AWS parameter group family (`mysql8.0`, `aurora-mysql8.0`, `mariadb10.11`,
    `aurora5.6`): the engine name and its major.minor; "" when the version does not say."""
    numbers = version_tuple(engine_version)
    if len(numbers) < 2:
        return ""
    return f"{engine.lower()}{numbers[0]}.{numbers[1]}"


def parse_family(family: str) -> tuple[str, tuple[int, ...]]:
    """`mariadb10.11` → ("mariadb", (10, 11)); an unreadable family → ("", ())."""
    match = _FAMILY.fullmatch(family.lower())
    if not match:
        return "", ()
    return match.group(1), version_tuple(match.group(2))


def enforcement_parameter(engine: str) -> str:
    """The parameter that enforces TLS for this engine: one per engine (PostgreSQL's would
    be rds.force_ssl); the MySQL family's when the engine is not known."""
    found = engine_named(engine) or ENGINES["mysql"]
    return found.enforcement.parameter


def enforcement_parameters() -> frozenset[str]:
    """Every engine's enforcement parameter."""
    return frozenset(engine.enforcement.parameter for engine in ENGINES.values())


def dynamic_parameters() -> frozenset[str]:
    """The parameters whose change applies without a restart, by the engines' own rules."""
    return frozenset(e.enforcement.parameter for e in ENGINES.values() if e.enforcement.dynamic)


def has_enforcement(engine: str, version: str) -> bool | None:
    """Whether this engine version has its enforcement parameter; None when unknown."""
    return _has_enforcement(engine_named(engine), version_tuple(version))


def _has_enforcement(found: Engine | None, numbers: tuple[int, ...]) -> bool | None:
    if found is None or len(numbers) < 2:
        return None
    enforcement = found.enforcement
    if len(numbers) >= len(enforcement.since) and not found.states_minor_only:
        return numbers >= enforcement.since
    return numbers[:2] >= enforcement.series


def default_value(provider: str, engine: str, version: str, parameter: str) -> bool | None:
    """The enforcement parameter's default where nothing states a value: the managed
    platform's where it differs, else the engine's; None where the version has no such
    parameter, or is not known."""
    found = engine_named(engine)
    if found is None or parameter != found.enforcement.parameter:
        return None
    numbers = version_tuple(version)
    if not _has_enforcement(found, numbers):
        return None
    managed = MANAGED_DEFAULTS.get((provider, found.name, parameter))
    if managed is not None and numbers[:2] >= managed[0]:
        return managed[1]
    return found.enforcement.default


def family_default(provider: str, family: str, parameter: str) -> bool | None:
    """default_value() for a parameter-group family (`mariadb11.8`)."""
    engine, numbers = parse_family(family)
    return default_value(provider, engine, ".".join(map(str, numbers)), parameter)


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
    version from a session, only a platform in MANAGED_TLS13_LIBRARY is known to offer it.
    """
    numbers = version_tuple(server_version) or version_tuple(engine_version)
    found = engine_named(engine, server_version)
    if not numbers or found is None:
        return None
    engine_can: bool | None = numbers >= found.tls13_since
    if found.states_minor_only and not server_version:
        engine_can = None if numbers >= found.tls13_since[:2] else False
    if engine_can is False:
        return False
    library = library_supports_tls13(ssl_library)
    if library is False:
        return False
    if library:
        return engine_can
    if engine_can and (provider, found.name) in MANAGED_TLS13_LIBRARY:
        return True
    return None
