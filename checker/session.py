"""The authenticated session: what the server says about its own TLS settings.

Credentials are only ever sent inside a TLS session that verified the chain against the
configured bundle and the canonical endpoint name (docs/design.md "Checker rules" 1). PyMySQL
would otherwise pick PREFERRED mode (unverified TLS, plaintext fallback), so the session
always passes its own VERIFY_IDENTITY context and checks it before connecting. PyMySQL
starts TLS before it sends the user name, so a failed verification sends nothing.

Errors 1193/1146/1064/1054 (unknown variable, table, syntax, column) mean "not applicable
to this flavour or version"; 1142/1143/1227/1044 mean "no privilege". Neither fails the
session: the readout says so.

Pure module: no Django imports.
"""

from __future__ import annotations

import contextlib
import functools
import ssl
import time
from dataclasses import dataclass

import pymysql
from pymysql.cursors import DictCursor

from checker import mysql_wire
from checker.canary_auth import CanaryRefused, canary_auth_plugins
from checker.deadline import Deadline, DeadlineReached
from checker.evidence import (
    SESSION_AUTH_FAILED,
    SESSION_ERROR,
    SESSION_OK,
    SESSION_TLS_FAILED,
    AccountsReadout,
    ClientConnection,
    ClientsReadout,
    PlaintextLogin,
    RemoteAccount,
    ReplicationChannel,
    ReplicationReadout,
    SessionEvidence,
)
from checker.secret import Login, SecretUnavailable
from common.engines import LOCAL_HOSTS
from common.tls import verify_identity_context

VARIABLES = (
    "require_secure_transport",
    "tls_version",
    "ssl_cipher",
    "tls_ciphersuites",
    "have_ssl",
    "have_openssl",
    "version",
    "version_comment",
    "version_ssl_library",
    "auto_generate_certs",
    "admin_tls_version",
    "admin_ssl_cipher",
    "admin_tls_ciphersuites",
)
GROUP_REPLICATION_VARIABLES = (
    "group_replication_ssl_mode",
    "group_replication_recovery_use_ssl",
    "group_replication_recovery_ssl_verify_server_cert",
    "group_replication_recovery_tls_version",
    "group_replication_recovery_tls_ciphersuites",
)
STATUS = (
    "Ssl_version",
    "Ssl_cipher",
    "Ssl_server_not_before",
    "Ssl_server_not_after",
    "Current_tls_version",
    "Current_tls_cipher",
    "Current_tls_ciphersuites",
    "Current_tls_ca",
    "Current_tls_cert",
)

_NOT_APPLICABLE = {1054, 1064, 1146, 1193}
_NO_PRIVILEGE = {1044, 1142, 1143, 1227}
ER_ACCESS_DENIED = 1045
ER_SECURE_TRANSPORT_REQUIRED = 3159
CR_SSL_CONNECTION_ERROR = 2026


@dataclass(frozen=True)
class SessionLimits:
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    write_timeout: float = 10.0  # also bounds the TLS handshake inside PyMySQL


class CredentialsRefused(RuntimeError):
    """The TLS context would not verify the server: credentials stay unsent."""


def require_verify_identity(context: ssl.SSLContext) -> None:
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        raise CredentialsRefused("TLS context does not verify chain and hostname")


def read_session(
    address: tuple[str, int],
    verify_name: str,
    *,
    cafile: str | None,
    login: Login,
    limits: SessionLimits,
    deadline: Deadline,
    other_own_users: tuple[str, ...] = (),
) -> SessionEvidence:
    """`other_own_users`: accounts of the checker besides `login` (the canary), whose
    connections are kept apart from the clients."""
    evidence = SessionEvidence()
    started = time.monotonic()
    if not cafile:
        evidence.reason = "no trust bundle configured: credentials are never sent unverified"
        return evidence
    try:
        context = verify_identity_context(verify_name, cafile=cafile)
        require_verify_identity(context)
    except (OSError, ssl.SSLError, CredentialsRefused, ValueError) as exc:
        evidence.reason = f"no verified TLS possible, credentials not sent: {exc}"
        return evidence
    evidence.attempted = True
    try:
        with _connection(address, login, limits, deadline, ssl=context) as conn:
            evidence.outcome = SESSION_OK
            own_users = (login.username, *other_own_users)
            _read_everything(conn, evidence, deadline, own_users)
    except _SessionFailed as failed:
        evidence.outcome, evidence.reason, evidence.error_code = failed.args
    evidence.elapsed_ms = int((time.monotonic() - started) * 1000)
    return evidence


def try_plaintext_login(
    address: tuple[str, int], *, login: Login, limits: SessionLimits, deadline: Deadline
) -> PlaintextLogin:
    """The opt-in canary (docs/design.md "Checker rules" 3): does a login without TLS get in?

    Only ever called with the dedicated canary account. Its password never crosses the
    wire: an auth switch to a plugin that would send it (checker/canary_auth.py) ends the
    attempt, and the result stays unknown with the plugin named.
    """
    result = PlaintextLogin(attempted=True)
    try:
        with _connection(
            address,
            login,
            limits,
            deadline,
            ssl_disabled=True,
            auth_plugin_map=canary_auth_plugins(),
        ):
            result.accepted = True
            result.reason = "a login without TLS succeeded"
    except CanaryRefused as refused:
        result.reason = str(refused)
    except _SessionFailed as failed:
        _, reason, code = failed.args
        result.error_code = code
        if code == ER_SECURE_TRANSPORT_REQUIRED:
            result.accepted = False
            result.reason = "refused: the server requires secure transport (3159)"
        elif code == ER_ACCESS_DENIED:
            result.accepted = False
            result.reason = (
                "refused with 1045 (REQUIRE SSL, require_secure_transport on MariaDB "
                "before 11.2 — or a wrong canary password)"
            )
        else:
            result.reason = reason
    return result


class _SessionFailed(Exception):
    """args: (outcome, reason, error_code)."""


@contextlib.contextmanager
def _connection(address, login: Login, limits: SessionLimits, deadline: Deadline, **options):
    try:
        password = login.secret.reveal()
    except SecretUnavailable as exc:
        raise _SessionFailed(SESSION_AUTH_FAILED, str(exc), None) from None
    try:
        sock = mysql_wire.connect(address, deadline, limits.connect_timeout)
    except (mysql_wire.WireError, DeadlineReached) as exc:
        raise _SessionFailed(SESSION_ERROR, str(exc), None) from None
    try:
        with deadline.guard(sock) as cut:
            conn = pymysql.connect(
                host=address[0],
                port=address[1],
                user=login.username,
                password=password,
                connect_timeout=limits.connect_timeout,
                read_timeout=deadline.timeout(limits.read_timeout),
                write_timeout=deadline.timeout(limits.write_timeout),
                charset="utf8mb4",
                autocommit=True,
                defer_connect=True,
                **options,
            )
            try:
                conn.connect(sock)
            except pymysql.err.MySQLError as exc:
                # The socket timeouts are capped by the deadline, so a timeout can win the
                # race against the guard's cut at the same instant: both mean the deadline.
                timed_out = cut.is_set() or deadline.expired
                raise _SessionFailed(*_login_failure(exc, timed_out)) from None
            try:
                yield conn
            finally:
                with contextlib.suppress(Exception):
                    conn.close()
    except DeadlineReached as exc:
        raise _SessionFailed(SESSION_ERROR, str(exc), None) from None
    finally:
        sock.close()


def _login_failure(exc: pymysql.err.MySQLError, deadline_cut: bool) -> tuple:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    cause = getattr(exc, "original_exception", None)
    if deadline_cut:
        return SESSION_ERROR, "deadline reached during the login", code
    if isinstance(cause, ssl.SSLCertVerificationError):
        reason = f"certificate verification failed ({cause.verify_message}); credentials not sent"
        return SESSION_TLS_FAILED, reason, code
    if isinstance(cause, ssl.SSLError):
        reason = f"TLS handshake failed ({cause.reason or cause}); credentials not sent"
        return SESSION_TLS_FAILED, reason, code
    if code == CR_SSL_CONNECTION_ERROR:
        return SESSION_TLS_FAILED, "server offers no TLS; credentials not sent", code
    if code in (ER_ACCESS_DENIED, ER_SECURE_TRANSPORT_REQUIRED):
        return SESSION_AUTH_FAILED, f"login refused ({code}): {message}", code
    if isinstance(cause, OSError):
        return SESSION_ERROR, f"connection failed: {cause.strerror or cause}", code
    return SESSION_ERROR, f"login failed ({code}): {message}", code


# -- readouts --------------------------------------------------------------------------------


def _read_everything(
    conn, evidence: SessionEvidence, deadline: Deadline, own_users: tuple[str, ...]
) -> None:
    flavour = mysql_wire.flavour_of(conn.get_server_info() or "")
    problems = []
    for what, read in (
        ("variables", _read_variables),
        ("status", _read_status),
        ("accounts", _read_accounts),
        ("replication", _read_replication),
        ("clients", functools.partial(_read_clients, own_users=own_users)),
    ):
        if deadline.expired:
            problems.append(f"{what} not read: deadline reached")
            continue
        try:
            read(conn, flavour, evidence)
        except pymysql.err.MySQLError as exc:
            problems.append(_readout_failure(exc, what)[1])
    evidence.reason = "; ".join(problems)


def _rows(conn, sql: str, args=None, *, as_dicts: bool = False) -> list:
    with conn.cursor(DictCursor if as_dicts else None) as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def _in_list(names) -> str:
    return ", ".join(["%s"] * len(names))


def _text(value) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _read_variables(conn, flavour: str, evidence: SessionEvidence) -> None:
    names = (*VARIABLES, *GROUP_REPLICATION_VARIABLES)
    rows = _rows(conn, f"SHOW GLOBAL VARIABLES WHERE Variable_name IN ({_in_list(names)})", names)
    found = {name.lower(): _text(value) for name, value in rows}
    # A name the server does not list is what `SELECT @@name` would answer with 1193.
    evidence.not_applicable = [n for n in names if n not in found]
    evidence.variables = {n: found[n] for n in VARIABLES if n in found}
    evidence.group_replication = {n: found[n] for n in GROUP_REPLICATION_VARIABLES if n in found}


def _read_status(conn, flavour: str, evidence: SessionEvidence) -> None:
    # SESSION shows this connection's Ssl_version/Ssl_cipher and global-only values alike.
    rows = _rows(conn, f"SHOW SESSION STATUS WHERE Variable_name IN ({_in_list(STATUS)})", STATUS)
    evidence.status = {name: _text(value) or "" for name, value in rows}
    evidence.tls_version = evidence.status.get("Ssl_version") or None
    evidence.tls_cipher = evidence.status.get("Ssl_cipher") or None


def _readout_failure(exc: pymysql.err.MySQLError, what: str) -> tuple[str, str]:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    message = exc.args[1] if len(exc.args) > 1 else str(exc)
    if code in _NOT_APPLICABLE:
        return "not-applicable", f"{what}: not in this flavour or version ({code})"
    if code in _NO_PRIVILEGE:
        return "no-privilege", f"unknown: missing privilege for {what} ({code}: {message})"
    return "error", f"{what}: {code}: {message}"


_ACCOUNT_QUERIES = {
    # Roles (MariaDB) and locked accounts (MySQL) cannot log in from anywhere.
    "mariadb": "SELECT user, host, ssl_type FROM mysql.user WHERE is_role = 'N'",
    "mysql": "SELECT user, host, ssl_type FROM mysql.user WHERE account_locked = 'N'",
}


def _read_accounts(conn, flavour: str, evidence: SessionEvidence) -> None:
    readout = evidence.accounts = AccountsReadout()
    queries = [_ACCOUNT_QUERIES.get(flavour), "SELECT user, host, ssl_type FROM mysql.user"]
    for sql in filter(None, queries):
        try:
            rows = _rows(conn, sql)
        except pymysql.err.MySQLError as exc:
            readout.state, readout.reason = _readout_failure(exc, "SELECT on mysql.user")
            if exc.args and exc.args[0] == 1054:
                continue  # the flavour's column is missing in this version: ask plainly
            return
        readout.remote = sorted(
            (
                RemoteAccount(user=_text(u) or "", host=_text(h) or "", ssl_type=_text(t) or "")
                for u, h, t in rows
                if (_text(h) or "").lower() not in LOCAL_HOSTS
            ),
            key=lambda a: (a.user, a.host),
        )
        readout.state, readout.reason = "ok", ""
        return


_MYSQL_CHANNEL_COLUMNS = (
    "CHANNEL_NAME, HOST, PORT, SSL_ALLOWED, SSL_CA_FILE, SSL_VERIFY_SERVER_CERTIFICATE, TLS_VERSION"
)
_MYSQL_CHANNEL_TABLE = "performance_schema.replication_connection_configuration"
# TLS_CIPHERSUITES came with 8.0.19 (WL#13392); before it the column is unknown (1054).
_MYSQL_CHANNELS = (
    f"SELECT {_MYSQL_CHANNEL_COLUMNS}, TLS_CIPHERSUITES FROM {_MYSQL_CHANNEL_TABLE}",  # noqa: S608
    f"SELECT {_MYSQL_CHANNEL_COLUMNS} FROM {_MYSQL_CHANNEL_TABLE}",  # noqa: S608
)


def _read_replication(conn, flavour: str, evidence: SessionEvidence) -> None:
    readout = evidence.replication = ReplicationReadout()
    try:
        if flavour == "mariadb":
            rows = _rows(conn, "SHOW ALL SLAVES STATUS", as_dicts=True)
            channels = [_mariadb_channel(row) for row in rows]
        else:
            try:
                rows = _rows(conn, _MYSQL_CHANNELS[0], as_dicts=True)
            except pymysql.err.MySQLError as exc:
                if not exc.args or exc.args[0] != 1054:
                    raise
                rows = _rows(conn, _MYSQL_CHANNELS[1], as_dicts=True)
            channels = [_mysql_channel(row) for row in rows]
    except pymysql.err.MySQLError as exc:
        readout.state, readout.reason = _readout_failure(exc, "replication channels")
        return
    readout.state, readout.channels = "ok", channels
    if not channels:
        readout.reason = "no replication channel configured"


def _yes(value) -> bool | None:
    text = _text(value)
    return None if text is None else text.strip().upper() == "YES"


def _mariadb_channel(row: dict) -> ReplicationChannel:
    return ReplicationChannel(
        name=_text(row.get("Connection_name")) or "",
        source_host=_text(row.get("Master_Host")) or "",
        source_port=int(row["Master_Port"]) if row.get("Master_Port") else None,
        ssl_allowed=_text(row.get("Master_SSL_Allowed")),
        ssl_verify_server_cert=_yes(row.get("Master_SSL_Verify_Server_Cert")),
        tls_version=None,  # MariaDB channels use the client library's default versions
        ssl_ca_file=_text(row.get("Master_SSL_CA_File")) or "",
    )


def _mysql_channel(row: dict) -> ReplicationChannel:
    return ReplicationChannel(
        name=_text(row.get("CHANNEL_NAME")) or "",
        source_host=_text(row.get("HOST")) or "",
        source_port=int(row["PORT"]) if row.get("PORT") else None,
        ssl_allowed=_text(row.get("SSL_ALLOWED")),
        ssl_verify_server_cert=_yes(row.get("SSL_VERIFY_SERVER_CERTIFICATE")),
        tls_version=_text(row.get("TLS_VERSION")),
        ssl_ca_file=_text(row.get("SSL_CA_FILE")) or "",
        tls_ciphersuites=_text(row.get("TLS_CIPHERSUITES")) or None,
    )


# -- client connections (docs/reference/mysql-tls.md "Client connections and their TLS") ------

COUNTERS = ("Connections", "Ssl_accepts", "Ssl_finished_accepts", "Uptime")
PERFORMANCE_SCHEMA_OFF = (
    "performance_schema is OFF (MariaDB's default): naming each client and its TLS needs the "
    "server option performance_schema=ON, a static one that takes a restart (my.cnf "
    "[mysqld] performance_schema=ON; a managed database: the parameter performance_schema "
    "and a reboot); until then the global counters count the connections without TLS "
    "between two checks, without names"
)
# Two queries joined here: MariaDB's optimiser joins the two tables thread by thread, three
# times slower at 180 connections (bench/client_readout.py).
_CLIENT_THREADS = (
    "SELECT PROCESSLIST_ID, PROCESSLIST_USER, PROCESSLIST_HOST, PROCESSLIST_COMMAND, "
    "CONNECTION_TYPE, TYPE, NAME, THREAD_ID FROM performance_schema.threads"
)
_CLIENT_TLS = (
    "SELECT THREAD_ID, VARIABLE_NAME, VARIABLE_VALUE FROM performance_schema.status_by_thread "
    "WHERE VARIABLE_NAME IN ('Ssl_version', 'Ssl_cipher')"
)
# What require_secure_transport lets through without TLS: it never breaks these.
_LOCAL_CONNECTION_TYPES = {"socket", "named pipe", "shared memory"}
_REPLICATION_COMMANDS = {"binlog dump", "binlog dump gtid"}
_SYSTEM_USERS = {"system user", "event_scheduler"}


def grant_for_clients(user: str) -> str:
    """The statements that let the checker account name the clients (README grants)."""
    return (
        f"GRANT SELECT ON performance_schema.threads TO '{user}'@'%'; "
        f"GRANT SELECT ON performance_schema.status_by_thread TO '{user}'@'%'"
    )


def _read_clients(
    conn, flavour: str, evidence: SessionEvidence, *, own_users: tuple[str, ...] = ()
) -> None:
    readout = evidence.clients = ClientsReadout()
    try:
        sql = f"SHOW GLOBAL STATUS WHERE Variable_name IN ({_in_list(COUNTERS)})"
        rows = _rows(conn, sql, COUNTERS)
        readout.counters = {
            name: int(value) for name, value in rows if (_text(value) or "").isdigit()
        }
    except pymysql.err.MySQLError as exc:
        readout.counters_reason = _readout_failure(exc, "global status counters")[1]
    try:
        rows = _rows(conn, "SHOW GLOBAL VARIABLES LIKE 'performance\\_schema'")
        readout.performance_schema = _text(rows[0][1]) if rows else None
        if (readout.performance_schema or "").upper() in ("OFF", "0"):
            readout.state, readout.reason = "off", PERFORMANCE_SCHEMA_OFF
            return
        own_id = _rows(conn, "SELECT CONNECTION_ID()")[0][0]
        # The TLS first: a thread listed after it that it lacks connected in between.
        tls: dict[int, dict[str, str]] = {}
        for thread_id, name, value in _rows(conn, _CLIENT_TLS):
            tls.setdefault(int(thread_id), {})[_text(name) or ""] = _text(value) or ""
        rows = _rows(conn, _CLIENT_THREADS)
    except pymysql.err.MySQLError as exc:
        readout.state, readout.reason = _readout_failure(exc, "performance_schema.threads")
        if readout.state == "no-privilege":
            readout.reason = (
                "unknown: grant SELECT on performance_schema.threads and status_by_thread "
                f"({grant_for_clients(own_users[0] if own_users else '<checker>')}; "
                "README 'Checking endpoints'); "
                f"{readout.reason.removeprefix('unknown: ')}"
            )
        return
    kept_apart: dict[str, int] = {}
    for row in rows:
        kind = _thread_kind(row, own_id, own_users)
        if kind:
            kept_apart[kind] = kept_apart.get(kind, 0) + 1
            continue
        connection_id, user, host, _, connection_type, *_, thread_id = row
        status = tls.get(int(thread_id))
        if status is None:  # connected after the status was read: the next check sees it
            kept_apart["not yet read"] = kept_apart.get("not yet read", 0) + 1
            continue
        version, cipher = status.get("Ssl_version"), status.get("Ssl_cipher")
        readout.connections.append(
            ClientConnection(
                user=_text(user) or "",
                host=_text(host) or "",
                connection_type=_text(connection_type) or "",
                tls_version=_text(version) or None,
                tls_cipher=_text(cipher) or None,
                connection_id=int(connection_id) if connection_id is not None else None,
            )
        )
    readout.connections.sort(key=lambda c: (c.user, c.host, c.connection_id or 0))
    readout.kept_apart = dict(sorted(kept_apart.items()))
    readout.state = "ok"


def _thread_kind(row, own_id, own_users: tuple[str, ...]) -> str:
    """Which threads are not application clients: "" for a client."""
    connection_id, user, host, command, connection_type, thread_type, name, *_ = row
    user, host = _text(user) or "", (_text(host) or "").lower()
    name, command = (_text(name) or "").lower(), (_text(command) or "").lower()
    if connection_id == own_id or user in own_users:
        return "checker"
    if command in _REPLICATION_COMMANDS or "slave" in name or "replica" in name:
        return "replication"
    if (_text(thread_type) or "").upper() == "BACKGROUND" or not user or user in _SYSTEM_USERS:
        return "system"
    # "localhost" is the socket; a TCP client on 127.0.0.1 would break like any other.
    if (_text(connection_type) or "").lower() in _LOCAL_CONNECTION_TYPES or host == "localhost":
        return "local"
    return ""
