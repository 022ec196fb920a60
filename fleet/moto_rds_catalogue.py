"""What AWS RDS answers where moto 5.2 answers nothing: CAs and TLS parameter defaults.

Values follow docs/reference/aws-rds.md "Defaults and limits"; which families have
`require_secure_transport` and its default per family come from common/engines.py, the same
answer inventory and posture use. Instance groups spell booleans `0`/`1`, cluster groups
`OFF`/`ON`.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from common.engines import enforcement_parameter, family_default, parse_family

PROVIDER = "aws"  # whose documented defaults these are (common.engines.MANAGED_DEFAULTS)

# The CAs every commercial region lists today; dates as AWS publishes them.
CURRENT_CAS = (
    ("rds-ca-rsa2048-g1", datetime(2021, 5, 25, 23, 34, 57, tzinfo=UTC), 2061),
    ("rds-ca-rsa4096-g1", datetime(2021, 5, 25, 23, 38, 10, tzinfo=UTC), 2121),
    ("rds-ca-ecc384-g1", datetime(2021, 5, 25, 23, 41, 54, tzinfo=UTC), 2121),
)
DEFAULT_CA = "rds-ca-rsa2048-g1"
# Retired CAs are no longer listed by DescribeCertificates, yet old instances may still use
# them; their server certificates ended with the CA.
RETIRED_CA_VALID_TILL = {
    "rds-ca-2019": datetime(2024, 8, 22, 17, 8, 50, tzinfo=UTC),
    "rds-ca-2015": datetime(2020, 3, 5, 21, 4, 0, tzinfo=UTC),
}
# RDS renews server certificates yearly (never beyond the CA).
SERVER_CERT_DAYS = 365


def certificate(identifier: str, valid_from: datetime, valid_till: datetime) -> dict:
    """One DescribeCertificates entry."""
    return {
        "CertificateIdentifier": identifier,
        "CertificateType": "CA",
        "Thumbprint": hashlib.sha1(identifier.encode(), usedforsecurity=False).hexdigest(),
        "ValidFrom": valid_from,
        "ValidTill": valid_till,
        "CustomerOverride": False,
    }


def current_certificates() -> list[dict]:
    return [
        certificate(name, start, start.replace(year=end_year, day=start.day - 1))
        for name, start, end_year in CURRENT_CAS
    ]


def _parameter(name, value, apply_type, data_type, allowed, description) -> dict:
    entry = {
        "ParameterName": name,
        "Description": description,
        "Source": "engine-default",
        "ApplyType": apply_type,
        "DataType": data_type,
        "AllowedValues": allowed,
        "IsModifiable": True,
    }
    if value is not None:
        entry["ParameterValue"] = value
    return entry


def tls_defaults(family: str, *, cluster: bool) -> list[dict]:
    """The TLS parameters of a family's engine defaults (instance or cluster level)."""
    engine, version = parse_family(family)
    if engine == "aurora-mysql":
        if not cluster:
            return []  # Aurora MySQL keeps them in the cluster parameter group only
        on, off = "ON", "OFF"
        versions = "TLSv1,TLSv1.1,TLSv1.2" if version < (8, 0) else "TLSv1.2,TLSv1.3"
        names = ("tls_version", "ssl_cipher")
    elif engine == "mysql":
        on, off = "1", "0"
        legacy = version < (8, 0)
        versions = "TLSv1,TLSv1.1,TLSv1.2" if legacy else "TLSv1.2,TLSv1.3"
        names = ("tls_version", "ssl_cipher")
        if not legacy:
            names += ("tls_ciphersuites",)
    elif engine == "mariadb":
        on, off, versions = "1", "0", None  # the TLS versions differ by minor version
        names = ("tls_version", "ssl_cipher")
    else:
        return []
    enforcement = enforcement_parameter(engine)
    enforced = family_default(PROVIDER, family, enforcement)
    if enforced is not None:  # the family has the parameter
        names = (enforcement, *names)
    catalogue = {
        enforcement: (
            on if enforced else off,
            "dynamic",
            "boolean",
            f"{off}, {on}",
            "Whether client connections must use encrypted transport",
        ),
        "tls_version": (versions, "static", "list", "", "TLS protocols the server permits"),
        "ssl_cipher": (None, "static", "list", "", "Permissible ciphers for TLS connections"),
        "tls_ciphersuites": (None, "static", "list", "", "TLSv1.3 cipher suites permitted"),
    }
    return [_parameter(name, *catalogue[name]) for name in names]
