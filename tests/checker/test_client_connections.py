"""Who connects, and with which TLS: read in the verified session from real MariaDB servers
with real clients in plaintext, on TLS 1.2 and on TLS 1.0 (docs/reference/mysql-tls.md
"Client connections and their TLS")."""

from __future__ import annotations

import secrets

import pytest

from checker.client_counts import count_between
from checker.deadline import Deadline
from checker.secret import Login, Secret
from checker.session import SessionLimits, _thread_kind, read_session
from fleet.clients import PLAINTEXT, TLS10, TLS12, connect_client, create_app_account
from fleet.scenarios import endpoint_name

LIMITS = SessionLimits(connect_timeout=2, read_timeout=2, write_timeout=2)


def _session(client_fleet, name, login=None):
    server = client_fleet[name]
    return read_session(
        (server.host, server.port),
        endpoint_name(name),
        cafile=str(client_fleet.bundle_path),
        login=login or Login(server.checker.username, Secret(server.checker.password)),
        limits=LIMITS,
        deadline=Deadline(10),
    )


@pytest.fixture
def app(client_fleet, request):
    """An application account of this test's own on both servers."""
    name = f"app_{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    for server in client_fleet:
        create_app_account(server, name, password)
    opened = []

    def connect(server_name, how, source):
        conn = connect_client(client_fleet[server_name], name, password, how, source=source)
        opened.append(conn)
        return conn

    connect.user = name
    yield connect
    for conn in opened:
        if conn.open:
            conn.close()
    for server in client_fleet:
        server.query(f"DROP USER '{name}'@'%'")


def test_each_client_is_named_with_its_tls(client_fleet, app):
    app("watched", PLAINTEXT, "127.0.0.2")
    app("watched", TLS12, "127.0.0.3")
    app("watched", TLS10, "127.0.0.4")
    session = _session(client_fleet, "watched")
    clients = session.clients
    assert (session.outcome, clients.state, clients.reason) == ("ok", "ok", "")
    assert clients.performance_schema == "ON"
    mine = [
        (c.host, c.connection_type, c.tls_version)
        for c in clients.connections
        if c.user == app.user
    ]
    assert mine == [
        ("127.0.0.2", "TCP/IP", None),
        ("127.0.0.3", "SSL/TLS", "TLSv1.2"),
        ("127.0.0.4", "SSL/TLS", "TLSv1"),
    ]
    ciphers = {c.host: c.tls_cipher for c in clients.connections if c.user == app.user}
    assert ciphers["127.0.0.2"] is None and ciphers["127.0.0.3"].startswith("ECDHE-")
    assert all(c.connection_id for c in clients.connections)
    # The checker's own session, the server's threads and root on the socket are kept apart.
    assert clients.kept_apart["checker"] >= 1 and clients.kept_apart["system"] >= 1
    assert not {c.user for c in clients.connections} & {"tlsposture", "root", ""}
    assert {"Connections", "Ssl_accepts", "Ssl_finished_accepts", "Uptime"} <= set(clients.counters)


def test_with_performance_schema_off_the_reason_and_the_counters_show(client_fleet, app):
    before = _session(client_fleet, "unwatched").clients
    assert (before.state, before.performance_schema, before.connections) == ("off", "OFF", [])
    assert "performance_schema=ON" in before.reason and "restart" in before.reason
    app("unwatched", PLAINTEXT, "127.0.0.2").close()
    app("unwatched", TLS12, "127.0.0.3").close()
    app("unwatched", TLS10, "127.0.0.4").close()
    after = _session(client_fleet, "unwatched").clients
    counted = count_between(before.counters, after.counters)
    # Three clients and the second checker session; one client came without TLS.
    assert (counted.connections, counted.without_tls) == (4, 1)
    # A canary login of the check itself is not a client's.
    assert count_between(before.counters, after.counters, own_plaintext=1).without_tls == 0


def test_counters_of_a_restarted_server_are_not_compared():
    before = {"Connections": 900, "Ssl_accepts": 800, "Uptime": 5000}
    after = {"Connections": 12, "Ssl_accepts": 3, "Uptime": 60}
    assert count_between(before, after) is None
    assert count_between({}, after) is None


@pytest.fixture
def no_grant_account(client_fleet):
    """An account that may log in over TLS but was not granted performance_schema."""
    server = client_fleet["watched"]
    password = secrets.token_urlsafe(18)
    server.query("CREATE USER 'tlsp_nogrant'@'127.0.0.1' IDENTIFIED BY %s REQUIRE SSL", [password])
    try:
        yield Login("tlsp_nogrant", Secret(password))
    finally:
        server.query("DROP USER 'tlsp_nogrant'@'127.0.0.1'")


def test_a_missing_grant_is_unknown_with_the_grant_to_add(client_fleet, no_grant_account):
    session = _session(client_fleet, "watched", no_grant_account)
    clients = session.clients
    assert (session.outcome, clients.state, clients.connections) == ("ok", "no-privilege", [])
    assert clients.reason.startswith(
        "unknown: grant SELECT on performance_schema.threads and status_by_thread "
        "(GRANT SELECT ON performance_schema.threads TO 'tlsp_nogrant'@'%'; "
        "GRANT SELECT ON performance_schema.status_by_thread TO 'tlsp_nogrant'@'%'"
    )
    assert "1142" in clients.reason
    # The counters need no grant: what can still be known is kept.
    assert clients.counters["Connections"] > 0


def test_the_checkers_other_accounts_are_kept_apart(client_fleet, app):
    """The canary's connection (here the app account standing in for it) is the check's own."""
    app("watched", PLAINTEXT, "127.0.0.6")
    server = client_fleet["watched"]
    session = read_session(
        (server.host, server.port),
        endpoint_name("watched"),
        cafile=str(client_fleet.bundle_path),
        login=Login(server.checker.username, Secret(server.checker.password)),
        limits=LIMITS,
        deadline=Deadline(10),
        other_own_users=(app.user,),
    )
    assert not [c for c in session.clients.connections if c.user == app.user]
    assert session.clients.kept_apart["checker"] >= 2


def test_threads_that_are_not_application_clients_are_kept_apart():
    """Rows as performance_schema.threads shows them on MySQL 8 and MariaDB (the columns of
    the session's query: id, user, host, command, connection type, type, name, version,
    cipher), for threads the fleet's servers do not run: replication and the scheduler."""
    own_id = 7

    def row(connection_id, user, host, command, connection_type, kind="FOREGROUND", name="x"):
        return (connection_id, user, host, command, connection_type, kind, name, "", "")

    rows = {
        "checker": row(7, "tlsposture", "10.0.0.5", "Query", "SSL/TLS"),
        "replication": row(9, "repl", "10.0.9.1", "Binlog Dump GTID", "SSL/TLS"),
        "replica thread": row(None, None, None, None, None, "BACKGROUND", "thread/sql/replica_io"),
        "scheduler": row(11, "event_scheduler", "localhost", "Daemon", None),
        "socket": row(12, "rdsadmin", "localhost", "Sleep", "Socket"),
        "loopback client": row(13, "app", "127.0.0.1", "Sleep", "TCP/IP"),
    }
    kinds = {name: _thread_kind(row, own_id, ("tlsposture",)) for name, row in rows.items()}
    assert kinds == {
        "checker": "checker",
        "replication": "replication",
        "replica thread": "replication",
        "scheduler": "system",
        "socket": "local",
        # require_secure_transport refuses a plaintext TCP client on loopback too.
        "loopback client": "",
    }
