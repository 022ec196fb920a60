"""Pure parts of the probe: suite table, class membership, greeting and name matching."""

from __future__ import annotations

import ssl

import pytest

from checker import cipher_suites
from checker.certificates import certificate_info, hostname_verdict
from checker.mysql_wire import ServerError, WireError, parse_error, parse_greeting
from fleet.certs import make_server_cert
from tests.checker import loopback


def test_suite_names_agree_with_the_local_openssl_where_it_knows_them():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.set_ciphers("ALL:COMPLEMENTOFALL:eNULL:@SECLEVEL=0")
    local = {c["id"] & 0xFFFF: c["name"] for c in context.get_ciphers()}
    table = {**cipher_suites.LEGACY_SUITES, **cipher_suites.TLS13_SUITES}
    shared = set(local) & set(table)
    assert len(shared) > 90
    assert {i: table[i] for i in shared} == {i: local[i] for i in shared}


def test_class_members_by_what_the_names_say():
    names = {
        c: {cipher_suites.suite_name(i) for i in cipher_suites.class_suites(c)}
        for c in ("anonymous_null_export", "broken", "static_rsa", "non_aead")
    }
    assert {"ADH-AES256-GCM-SHA384", "AECDH-NULL-SHA", "NULL-MD5", "EXP-RC4-MD5"} <= names[
        "anonymous_null_export"
    ]
    assert {"RC4-SHA", "DES-CBC-SHA", "DES-CBC3-SHA", "ECDHE-RSA-DES-CBC3-SHA"} <= names["broken"]
    assert {"AES256-GCM-SHA384", "AES128-SHA", "ECDH-RSA-AES128-SHA"} <= names["static_rsa"]
    assert {"ECDHE-RSA-AES128-SHA", "DHE-RSA-AES256-SHA256"} <= names["non_aead"]
    # A suite in the first class is asked about there only.
    assert "EXP-RC4-MD5" not in names["broken"] | names["static_rsa"]
    assert "ECDHE-RSA-AES128-GCM-SHA256" not in set().union(*names.values())


def test_default_offer_puts_forward_secret_aead_first_and_never_anonymous():
    offer = [cipher_suites.describe(i) for i in cipher_suites.default_offer()]
    assert offer[0].forward_secret and offer[0].aead and offer[0].key_exchange == "ECDHE"
    assert not any(s.unauthenticated_or_unencrypted for s in offer)
    assert offer[-1].broken


def test_greeting_fields():
    payload = loopback.greeting("5.5.5-10.11.19-MariaDB")[4:]
    greeting = parse_greeting(payload)
    assert greeting.server_version == "5.5.5-10.11.19-MariaDB"
    assert greeting.flavour == "mariadb" and greeting.tls_offered and greeting.connection_id == 42


def test_err_packets_with_and_without_sqlstate():
    blocked = ServerError(1129, "Host 'x' is blocked")
    assert parse_error(b"\xff\x69\x04Host 'x' is blocked") == blocked
    assert parse_error(b"\xff\x15\x04#28000Access denied") == ServerError(1045, "Access denied")


def test_unreadable_greeting_is_garbage():
    with pytest.raises(WireError) as raised:
        parse_greeting(b"\x0a\x01\x02\x03\x00")
    assert raised.value.reason == "MySQL greeting with an unreadable version string"


def _cert(sans, cn=None):
    return make_server_cert(sans, issuer=None, common_name=cn).cert


@pytest.mark.parametrize(
    ("sans", "cn", "name", "ok"),
    [
        (["*.abc.us-east-1.rds.amazonaws.com"], None, "db.abc.us-east-1.rds.amazonaws.com", True),
        (["*.abc.us-east-1.rds.amazonaws.com"], None, "a.b.abc.us-east-1.rds.amazonaws.com", False),
        (["f*.example.com"], None, "foo.example.com", False),
        (["*.com"], None, "example.com", False),
        (["DB.Example.COM"], None, "db.example.com", True),
        (["other.example.com"], "db.example.com", "db.example.com", False),  # SAN wins over CN
        ([], "db.example.com", "db.example.com", True),  # no DNS SAN: the CN counts
        (["10.0.0.5"], "10.0.0.5", "10.0.0.5", True),
        (["db.example.com"], "10.0.0.5", "10.0.0.5", False),  # IPs only match IP SANs
    ],
)
def test_hostname_rules_follow_openssl(sans, cn, name, ok):
    assert hostname_verdict(_cert(sans, cn), name).ok is ok


def test_mariadb_zero_config_certificate_is_recognised():
    info = certificate_info(_cert([], "MariaDB Server"))
    assert (info.auto_generated, info.self_signed, info.sans) == ("mariadb-zero-config", True, [])
