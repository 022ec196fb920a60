"""The VERIFY_IDENTITY session against real servers: what it reads, and what it refuses."""

from __future__ import annotations

import secrets
import time

import pytest

from checker.deadline import Deadline
from checker.evidence import RemoteAccount, ReplicationChannel
from checker.secret import Login, Secret
from checker.session import SessionLimits, read_session, try_plaintext_login
from fleet.scenarios import endpoint_name
from tests.checker import loopback

LIMITS = SessionLimits(connect_timeout=2, read_timeout=2, write_timeout=2)


def _session(tls_fleet, scenario, login=None, *, cafile="fleet"):
    server = tls_fleet[scenario]
    return read_session(
        (server.host, server.port),
        endpoint_name(scenario),
        cafile=str(tls_fleet.bundle_path) if cafile == "fleet" else cafile,
        login=login or Login(server.checker.username, Secret(server.checker.password)),
        limits=LIMITS,
        deadline=Deadline(10),
    )


def _access_denied_errors(server) -> int:
    return int(
        dict(server.query("SHOW GLOBAL STATUS LIKE 'Access_denied_errors'"))["Access_denied_errors"]
    )


def test_enforced_session_reads_variables_status_and_accounts(tls_fleet):
    session = _session(tls_fleet, "enforced")
    assert (session.attempted, session.outcome, session.reason) == (True, "ok", "")
    assert (session.tls_version, session.tls_cipher) == ("TLSv1.3", "TLS_AES_256_GCM_SHA384")
    assert session.variables["require_secure_transport"] == "ON"
    assert session.variables["tls_version"] == "TLSv1.2,TLSv1.3"
    assert session.variables["have_ssl"] == "YES"
    assert "MariaDB" in session.variables["version"]
    assert session.variables["version_ssl_library"].startswith("OpenSSL")
    # MariaDB has neither tls_ciphersuites nor Group Replication: not applicable, not failed.
    assert {"tls_ciphersuites", "group_replication_ssl_mode"} <= set(session.not_applicable)
    assert session.group_replication == {}
    assert session.status["Ssl_server_not_after"].endswith(" GMT")
    assert session.status["Ssl_version"] == "TLSv1.3"
    assert session.accounts.state == "ok"
    assert RemoteAccount("tlsposture", "%", "ANY") in session.accounts.remote
    assert RemoteAccount("tlsp_canary", "%", "") in session.accounts.remote
    assert not any(a.host in ("localhost", "127.0.0.1", "::1") for a in session.accounts.remote)
    assert (session.replication.state, session.replication.channels) == ("ok", [])


def test_replica_channels_show_their_tls_settings(tls_fleet):
    channels = _session(tls_fleet, "replica").replication.channels
    assert channels == [
        ReplicationChannel("plain", "legacy.fleet.test", 3306, "No", False, None, ""),
        ReplicationChannel("unverified", "optional.fleet.test", 3306, "Yes", False, None, ""),
        ReplicationChannel(
            "verified",
            "enforced.fleet.test",
            3306,
            "Yes",
            True,
            None,
            "/etc/ssl/certs/ca-certificates.crt",
        ),
    ]


@pytest.fixture
def limited_account(tls_fleet):
    """An account that may log in over TLS but read nothing else."""
    server = tls_fleet["enforced"]
    password = secrets.token_urlsafe(18)
    server.query("CREATE USER 'tlsp_limited'@'127.0.0.1' IDENTIFIED BY %s REQUIRE SSL", [password])
    try:
        yield Login("tlsp_limited", Secret(password))
    finally:
        server.query("DROP USER 'tlsp_limited'@'127.0.0.1'")


def test_missing_privileges_are_readouts_not_failures(tls_fleet, limited_account):
    session = _session(tls_fleet, "enforced", limited_account)
    assert session.outcome == "ok"
    assert session.accounts.state == "no-privilege"
    assert session.accounts.reason.startswith(
        "unknown: missing privilege for SELECT on mysql.user (1142:"
    )
    assert session.replication.state == "no-privilege"
    assert session.variables["require_secure_transport"] == "ON"


def test_unverified_servers_never_see_the_credentials(tls_fleet):
    server = tls_fleet["wrong_name"]
    before = _access_denied_errors(server)
    session = _session(tls_fleet, "wrong_name", Login("tlsposture", Secret("wrong-password")))
    assert session.outcome == "tls-failed" and session.error_code == 2003
    assert session.reason.startswith("certificate verification failed (Hostname mismatch")
    assert session.reason.endswith("credentials not sent")
    assert _access_denied_errors(server) == before
    # The same wrong password does reach a server that verifies: the counter moves there.
    control = tls_fleet["enforced"]
    before = _access_denied_errors(control)
    refused = _session(tls_fleet, "enforced", Login("tlsposture", Secret("wrong-password")))
    assert (refused.outcome, refused.error_code) == ("auth-failed", 1045)
    assert _access_denied_errors(control) == before + 1


def test_no_tls_server_gets_no_credentials(tls_fleet):
    session = _session(tls_fleet, "no_tls")
    assert (session.outcome, session.error_code) == ("tls-failed", 2026)
    assert session.reason == "server offers no TLS; credentials not sent"


def test_without_a_bundle_no_session_is_attempted(tls_fleet):
    session = _session(tls_fleet, "enforced", cafile=None)
    assert (session.attempted, session.outcome) == (False, "skipped")
    assert session.reason == "no trust bundle configured: credentials are never sent unverified"


def test_plaintext_canary(tls_fleet):
    def canary(scenario):
        server = tls_fleet[scenario]
        return try_plaintext_login(
            (server.host, server.port),
            login=Login(server.canary.username, Secret(server.canary.password)),
            limits=LIMITS,
            deadline=Deadline(10),
        )

    accepted = canary("optional")
    assert (accepted.attempted, accepted.accepted) == (True, True)
    refused = canary("enforced")
    assert (refused.accepted, refused.error_code) == (False, 1045)


def test_the_deadline_cuts_a_login_that_hangs_in_tls():
    slow = SessionLimits(connect_timeout=2, read_timeout=30, write_timeout=30)
    with loopback.LoopbackServer(loopback.hangs_in_tls) as server:
        started = time.monotonic()
        session = read_session(
            server.address,
            "db.example.test",
            cafile="/etc/ssl/certs/ca-certificates.crt",
            login=Login("u", Secret("p")),
            limits=slow,
            # Long enough that even a loaded machine connects well inside it: the TLS
            # handshake, which never ends, is what the deadline has to cut.
            deadline=Deadline(3.0),
        )
        took = time.monotonic() - started
    assert took < slow.read_timeout / 3  # the deadline, not the 30 s read timeout, ended it
    assert (session.outcome, session.reason) == ("error", "deadline reached during the login")
