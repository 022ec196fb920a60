"""Each fleet scenario really runs as specified: proven over a real TLS connection."""

from __future__ import annotations

import ssl

import pymysql
import pytest

from common.tls import verify_identity_context
from fleet.scenarios import endpoint_name


def _verified_context(fleet, scenario: str) -> ssl.SSLContext:
    # Dial 127.0.0.1 but verify the endpoint name, as the checker will.
    return verify_identity_context(endpoint_name(scenario), cafile=str(fleet.bundle_path))


def _connect(server, ctx, user=None):
    creds = user or server.checker
    return pymysql.connect(
        host=server.host,
        port=server.port,
        user=creds.username,
        password=creds.password,
        ssl=ctx,
        connect_timeout=5,
        read_timeout=5,
        write_timeout=5,
    )


def _session_tls(conn) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')")
        return dict(cur.fetchall())


def _variables(server) -> dict[str, str]:
    rows = server.query(
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN "
        "('have_ssl', 'require_secure_transport', 'tls_version', 'ssl_cipher')"
    )
    return dict(rows)


def test_enforced_scenario_verifies_and_refuses_plaintext(tls_fleet):
    server = tls_fleet["enforced"]
    assert _variables(server) == {
        "have_ssl": "YES",
        "require_secure_transport": "ON",
        "tls_version": "TLSv1.2,TLSv1.3",
        "ssl_cipher": "",
    }
    with _connect(server, _verified_context(tls_fleet, "enforced")) as conn:
        tls = _session_tls(conn)
    assert tls["Ssl_version"] == "TLSv1.3"
    assert tls["Ssl_cipher"].startswith("TLS_")
    # A client without TLS is refused even with the right password.
    with pytest.raises(pymysql.err.OperationalError) as refused:
        pymysql.connect(
            host=server.host,
            port=server.port,
            user=server.app_ssl.username,
            password=server.app_ssl.password,
            ssl_disabled=True,  # PyMySQL would otherwise try TLS ("preferred") on its own
            connect_timeout=5,
        )
    assert refused.value.args[0] in (1045, 3159)


def test_optional_scenario_accepts_plaintext_and_tls(tls_fleet):
    server = tls_fleet["optional"]
    variables = _variables(server)
    assert variables["have_ssl"] == "YES"
    assert variables["require_secure_transport"] == "OFF"
    with pymysql.connect(
        host=server.host,
        port=server.port,
        user=server.app_plain.username,
        password=server.app_plain.password,
        ssl_disabled=True,
        connect_timeout=5,
    ) as conn:
        assert _session_tls(conn)["Ssl_cipher"] == ""
    with _connect(server, _verified_context(tls_fleet, "optional")) as conn:
        assert _session_tls(conn)["Ssl_version"] == "TLSv1.3"


def test_accounts_with_and_without_require_ssl(tls_fleet):
    rows = dict(
        tls_fleet["optional"].query(
            "SELECT user, ssl_type FROM mysql.user WHERE host = '%' ORDER BY user"
        )
    )
    assert rows == {"app_plain": "", "app_ssl": "ANY", "tlsp_canary": "", "tlsposture": "ANY"}
    enforced = dict(
        tls_fleet["enforced"].query("SELECT user, ssl_type FROM mysql.user WHERE host='%'")
    )
    assert "app_plain" not in enforced


def test_checker_account_is_read_only(tls_fleet):
    server = tls_fleet["optional"]
    grants = " ".join(r[0] for r in server.query("SHOW GRANTS FOR 'tlsposture'@'%'"))
    assert "PROCESS" in grants and "SELECT ON `mysql`.`user`" in grants
    assert "ALL PRIVILEGES" not in grants and "INSERT" not in grants


def test_legacy_scenario_negotiates_tls10_and_anonymous_suites(tls_fleet):
    server = tls_fleet["legacy"]
    variables = _variables(server)
    assert variables["tls_version"] == "TLSv1.0,TLSv1.1,TLSv1.2"
    assert variables["ssl_cipher"] == "ALL:@SECLEVEL=0"

    legacy = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    legacy.check_hostname = False
    legacy.verify_mode = ssl.CERT_NONE  # this client sends no credentials worth protecting
    legacy.minimum_version = legacy.maximum_version = ssl.TLSVersion.TLSv1
    legacy.set_ciphers("ALL:@SECLEVEL=0")
    with _connect(server, legacy, user=server.app_plain) as conn:
        assert _session_tls(conn)["Ssl_version"] == "TLSv1"

    anonymous = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    anonymous.check_hostname = False
    anonymous.verify_mode = ssl.CERT_NONE
    anonymous.maximum_version = ssl.TLSVersion.TLSv1_2
    anonymous.set_ciphers("aNULL:@SECLEVEL=0")
    with _connect(server, anonymous, user=server.app_plain) as conn:
        tls = _session_tls(conn)
    assert tls["Ssl_version"] == "TLSv1.2"
    assert tls["Ssl_cipher"].startswith(("ADH-", "AECDH-"))


def test_no_tls_scenario_offers_no_tls(tls_fleet):
    server = tls_fleet["no_tls"]
    assert _variables(server)["have_ssl"] == "DISABLED"
    with pytest.raises(pymysql.err.OperationalError) as refused:
        _connect(server, _verified_context(tls_fleet, "no_tls"))
    assert refused.value.args[0] == 2026


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ("expired", "certificate has expired"),
        ("self_signed", "self-signed certificate"),
        ("wrong_name", "Hostname mismatch"),
        ("weak_cert", "key too weak"),
    ],
)
def test_bad_certificates_fail_verification(tls_fleet, scenario, reason):
    with pytest.raises(pymysql.err.OperationalError) as failed:
        _connect(tls_fleet[scenario], _verified_context(tls_fleet, scenario))
    assert failed.value.args[0] == 2003
    assert reason.lower() in str(failed.value).lower()


def test_expiring_and_ec_certificates_verify(tls_fleet):
    for scenario in ("expiring", "ec_key"):
        with _connect(tls_fleet[scenario], _verified_context(tls_fleet, scenario)) as conn:
            tls = _session_tls(conn)
        assert tls["Ssl_version"] == "TLSv1.3", scenario
    not_after = dict(tls_fleet["expiring"].query("SHOW GLOBAL STATUS LIKE 'Ssl_server_not_after'"))
    assert not_after["Ssl_server_not_after"].endswith("GMT")
