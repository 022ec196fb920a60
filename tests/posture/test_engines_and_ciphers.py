"""What engines can do, and what an ssl_cipher string asks for."""

from __future__ import annotations

import pytest

from common.engines import supports_tls13, version_tuple
from posture.ciphers import weakening_tokens
from posture.providers.aws import parameter_group_family


@pytest.mark.parametrize(
    ("engine", "version", "family"),
    [
        ("mysql", "8.0.39", "mysql8.0"),
        ("mysql", "5.7.44", "mysql5.7"),
        ("mariadb", "10.11.9", "mariadb10.11"),
        ("aurora-mysql", "8.0.mysql_aurora.3.05.2", "aurora-mysql8.0"),
        ("mysql", "", "<family>"),
    ],
)
def test_parameter_group_family(engine, version, family):
    assert parameter_group_family(engine, version) == family


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"engine": "mysql", "engine_version": "8.0.39"}, True),
        ({"engine": "mysql", "engine_version": "8.0.15"}, False),
        ({"engine": "mysql", "engine_version": "5.7.44"}, False),
        ({"engine": "aurora-mysql", "engine_version": "8.0.mysql_aurora.3.05.2"}, None),
        ({"engine": "mariadb", "engine_version": "10.11.9"}, None),
        (
            {
                "engine": "mariadb",
                "engine_version": "10.11.9",
                "ssl_library": "OpenSSL 3.0.13 30 Jan 2024",
            },
            True,
        ),
        ({"engine": "mariadb", "engine_version": "10.3.39", "ssl_library": "OpenSSL 3.0.2"}, False),
        ({"engine": "mysql", "engine_version": "8.0.39", "ssl_library": "OpenSSL 1.1.0l"}, False),
    ],
)
def test_supports_tls13(kwargs, expected):
    assert supports_tls13("aws", **kwargs) is expected


def test_version_tuple_reads_server_and_api_spellings():
    assert version_tuple("10.11.9-MariaDB") == (10, 11, 9)
    assert version_tuple("5.5.5-10.11.9-MariaDB-log") == (10, 11, 9)
    assert version_tuple("8.0.mysql_aurora.3.05.2") == (8, 0)
    assert version_tuple("8.0.39") == (8, 0, 39)


@pytest.mark.parametrize(
    ("cipher", "reasons"),
    [
        ("", []),
        ("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384", []),
        ("HIGH:!aNULL:!MD5", []),
        ("ALL:!aNULL:!eNULL:!EXPORT:!LOW:!RC4:!DES:!3DES:!MD5", []),
        ("ALL:!aNULL:!eNULL", ["ALL without !EXPORT, !LOW, !RC4, !DES, !3DES, !MD5"]),
        ("DEFAULT:@SECLEVEL=0", ["@SECLEVEL=0 allows every weak suite and key size"]),
        ("aNULL:HIGH", ["aNULL adds anonymous key exchange (aNULL)"]),
        ("HIGH:!ECDHE", ["!ECDHE removes strong suites"]),
        ("ECDHE-RSA-AES128-GCM-SHA256:DES-CBC3-SHA", ["DES-CBC3-SHA is a weak suite"]),
        ("kRSA+RC4", ["kRSA+RC4 adds RC4"]),
    ],
)
def test_weakening_tokens(cipher, reasons):
    assert weakening_tokens(cipher) == reasons
