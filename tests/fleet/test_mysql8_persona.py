"""The MySQL 8 persona as a MySQL client sees it: greeting, TLS, logins, errors, result shapes."""

from __future__ import annotations

import socket
import ssl

import pymysql
import pytest
from pymysql.constants import FIELD_TYPE

from checker import mysql_wire
from checker.deadline import Deadline
from fleet.mariadb import Fleet
from fleet.mysql8.persona import PersonaSpec
from fleet.scenarios import endpoint_name

pytestmark = pytest.mark.fleet


def _context(mysql8_fleet, scenario=None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(mysql8_fleet.bundle_path))
    context.check_hostname = False
    return context


def _connect(mysql8_fleet, scenario, user="checker", **kwargs):
    server = mysql8_fleet[scenario]
    credentials = getattr(server, user)
    options = {"ssl": _context(mysql8_fleet)} if "ssl_disabled" not in kwargs else {}
    return pymysql.connect(
        host=server.host,
        port=server.port,
        user=credentials.username,
        password=credentials.password,
        connect_timeout=5,
        **options,
        **kwargs,
    )


def _greeting(server):
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        return mysql_wire.read_greeting(sock, Deadline(10), 5)


@pytest.mark.parametrize(
    ("scenario", "version"), [("mysql80_enforced", "8.0.39"), ("mysql84_enforced", "8.4.3")]
)
def test_greeting_is_mysql_with_tls_offered(mysql8_fleet, scenario, version):
    greeting = _greeting(mysql8_fleet[scenario])
    assert greeting.server_version == version and greeting.flavour == "mysql"
    assert greeting.tls_offered
    # MySQL 8's flags: protocol 4.1, secure connection, plugin auth, deprecate EOF.
    for flag in (0x200, 0x8000, 0x80000, 0x1000000):
        assert greeting.capabilities & flag


def test_caching_sha2_full_then_fast_authentication_over_tls(mysql8_fleet):
    # The first login of an account is a full authentication (password inside TLS); the
    # second takes the fast path from the server's cache. Both end logged in over TLS.
    for _ in range(2):
        with (
            _connect(mysql8_fleet, "mysql84_enforced", user="app_ssl") as conn,
            conn.cursor() as cur,
        ):
            cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
            assert cur.fetchall() == (("Ssl_version", "TLSv1.3"),)


def test_a_wrong_password_is_refused_with_1045(mysql8_fleet):
    server = mysql8_fleet["mysql80_enforced"]
    with pytest.raises(pymysql.err.OperationalError) as refused:
        pymysql.connect(
            host=server.host, port=server.port, user="app_ssl", password="wrong",
            ssl=_context(mysql8_fleet), connect_timeout=5,
        )  # fmt: skip
    assert refused.value.args[0] == 1045


def test_plaintext_login_is_refused_with_3159_when_secure_transport_is_required(mysql8_fleet):
    with pytest.raises(pymysql.err.OperationalError) as refused:
        _connect(mysql8_fleet, "mysql80_enforced", user="canary", ssl_disabled=True)
    assert refused.value.args[0] == 3159
    assert "require_secure_transport=ON" in refused.value.args[1]


def test_native_password_on_80_and_plaintext_login_where_not_required(mysql8_fleet):
    # mysql80_legacy does not require secure transport: the canary (mysql_native_password)
    # gets in without TLS, as on a real 8.0.
    conn = _connect(mysql8_fleet, "mysql80_legacy", user="canary", ssl_disabled=True)
    with conn, conn.cursor() as cur:
        cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
        assert cur.fetchall() == (("Ssl_version", ""),)


def test_show_variables_shapes_and_84_removed_variables(mysql8_fleet):
    names = ("have_ssl", "have_openssl", "tls_version", "version", "require_secure_transport")
    marks = ", ".join(["%s"] * len(names))
    sql = f"SHOW GLOBAL VARIABLES WHERE Variable_name IN ({marks})"
    with _connect(mysql8_fleet, "mysql80_enforced") as conn, conn.cursor() as cur:
        cur.execute(sql, names)
        assert [d[0] for d in cur.description] == ["Variable_name", "Value"]
        assert dict(cur.fetchall()) == {
            "have_openssl": "YES",
            "have_ssl": "YES",
            "require_secure_transport": "ON",
            "tls_version": "TLSv1.2,TLSv1.3",
            "version": "8.0.39",
        }
    with _connect(mysql8_fleet, "mysql84_enforced") as conn, conn.cursor() as cur:
        cur.execute(sql, names)
        found = dict(cur.fetchall())
        assert "have_ssl" not in found and "have_openssl" not in found
        assert found["version"] == "8.4.3"
        with pytest.raises(pymysql.err.OperationalError) as unknown:
            cur.execute("SELECT @@have_ssl")
        assert unknown.value.args == (1193, "Unknown system variable 'have_ssl'")
        with pytest.raises(pymysql.err.ProgrammingError) as removed:
            cur.execute("SHOW SLAVE STATUS")
        assert removed.value.args[0] == 1064


def test_replication_configuration_columns_types_and_nulls(mysql8_fleet):
    sql = (
        "SELECT CHANNEL_NAME, HOST, PORT, SSL_ALLOWED, SSL_VERIFY_SERVER_CERTIFICATE, "
        "TLS_VERSION, TLS_CIPHERSUITES FROM performance_schema.replication_connection_configuration"
    )
    with _connect(mysql8_fleet, "mysql80_replica_unverified") as conn, conn.cursor() as cur:
        cur.execute(sql)
        row = cur.fetchone()
        types = {d[0]: d[1] for d in cur.description}
    assert row == (
        "orders",
        endpoint_name("mysql80_enforced"),
        3306,
        "YES",
        "NO",
        "TLSv1.1,TLSv1.2",
        None,
    )
    assert types["PORT"] == FIELD_TYPE.LONG and types["SSL_ALLOWED"] == FIELD_TYPE.STRING
    assert types["TLS_CIPHERSUITES"] == FIELD_TYPE.BLOB  # text, NULL when not set
    with _connect(mysql8_fleet, "mysql80_replica_ccm8") as conn, conn.cursor() as cur:
        cur.execute(sql)
        assert cur.fetchone()[5:] == ("TLSv1.3", "TLS_AES_128_CCM_8_SHA256")


def test_errors_where_mysql_gives_them(mysql8_fleet):
    with _connect(mysql8_fleet, "mysql80_enforced", user="app_ssl") as conn, conn.cursor() as cur:
        with pytest.raises(pymysql.err.OperationalError) as denied:
            cur.execute("SELECT user, host FROM mysql.user")
        assert denied.value.args[0] == 1142
        assert "SELECT command denied to user 'app_ssl'" in denied.value.args[1]
        with pytest.raises(pymysql.err.OperationalError) as privilege:
            cur.execute("SHOW REPLICA STATUS")
        assert privilege.value.args[0] == 1227
        with pytest.raises(pymysql.err.OperationalError) as set_global:
            cur.execute("SET GLOBAL require_secure_transport = OFF")
        assert set_global.value.args[0] == 1227
        with pytest.raises(pymysql.err.ProgrammingError) as missing:
            cur.execute("SELECT * FROM mysql.global_priv")
        assert missing.value.args[0] == 1146
        with pytest.raises(pymysql.err.ProgrammingError) as mariadb_only:
            cur.execute("SHOW ALL SLAVES STATUS")
        assert mariadb_only.value.args[0] == 1064


def test_threads_join_status_by_thread_shows_each_clients_tls(mysql8_fleet):
    sql = (
        "SELECT t.PROCESSLIST_USER, t.PROCESSLIST_HOST, t.CONNECTION_TYPE, "
        "v.VARIABLE_VALUE AS tls_version, c.VARIABLE_VALUE AS tls_cipher "
        "FROM performance_schema.threads t "
        "LEFT JOIN performance_schema.status_by_thread v "
        "ON v.THREAD_ID = t.THREAD_ID AND v.VARIABLE_NAME = 'Ssl_version' "
        "LEFT JOIN performance_schema.status_by_thread c "
        "ON c.THREAD_ID = t.THREAD_ID AND c.VARIABLE_NAME = 'Ssl_cipher' "
        "WHERE t.TYPE = 'FOREGROUND' AND t.CONNECTION_TYPE IS NOT NULL "
        "ORDER BY t.THREAD_ID"
    )
    conn = _connect(mysql8_fleet, "mysql84_enforced")
    with conn, conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    assert [r["PROCESSLIST_USER"] for r in rows] == ["app", "reporting", "tlsposture"]
    app, reporting, own = rows
    assert (app["CONNECTION_TYPE"], app["tls_version"]) == ("SSL/TLS", "TLSv1.3")
    assert (reporting["CONNECTION_TYPE"], reporting["tls_version"]) == ("TCP/IP", "")
    assert own["tls_version"] == "TLSv1.3" and own["tls_cipher"].startswith("TLS_")


def test_tls_13_suites_are_what_the_persona_is_configured_with(mysql8_fleet):
    server = mysql8_fleet["mysql80_tls13_ccm8"]
    context = _context(mysql8_fleet)
    # An ordinary client (OpenSSL's default TLS 1.3 suites, no CCM_8) gets no handshake.
    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(
            host=server.host, port=server.port, user="app_ssl", password="x",
            ssl=context, connect_timeout=5,
        )  # fmt: skip
    greeting = _greeting(server)
    assert greeting.tls_offered


def test_global_counters_for_connections_without_performance_schema(mysql8_fleet):
    sql = (
        "SHOW GLOBAL STATUS WHERE Variable_name IN "
        "('Connections', 'Ssl_accepts', 'Ssl_finished_accepts')"
    )

    def counters():
        with _connect(mysql8_fleet, "mysql80_legacy") as conn, conn.cursor() as cur:
            cur.execute(sql)
            return {name: int(value) for name, value in cur.fetchall()}

    before = counters()
    plain = _connect(mysql8_fleet, "mysql80_legacy", user="app_plain", ssl_disabled=True)
    plain.close()
    after = counters()
    # Between the two readings: the plaintext client and the second reading itself (TLS).
    assert after["Connections"] - before["Connections"] == 2
    assert after["Ssl_finished_accepts"] - before["Ssl_finished_accepts"] == 1
    with _connect(mysql8_fleet, "mysql80_legacy") as conn, conn.cursor() as cur:
        cur.execute("SHOW GLOBAL VARIABLES LIKE 'performance_schema'")
        assert cur.fetchall() == (("performance_schema", "ON"),)
        cur.execute(
            "SELECT t.PROCESSLIST_USER, s.VARIABLE_VALUE FROM performance_schema.threads t "
            "JOIN performance_schema.status_by_thread s USING (THREAD_ID) "
            "WHERE s.VARIABLE_NAME = 'Ssl_version' AND t.PROCESSLIST_ID <> CONNECTION_ID() "
            "AND t.CONNECTION_TYPE IS NOT NULL ORDER BY 1"
        )
        assert cur.fetchall() == (("app", "TLSv1.2"), ("batch", "TLSv1"), ("legacy_app", ""))


def test_84_has_no_native_password_and_a_server_without_certificate_has_no_tls(tmp_path):
    specs = [
        PersonaSpec("native84", version="8.4.3", canary_plugin="mysql_native_password"),
        PersonaSpec("no_tls80"),
    ]
    with Fleet(specs, base_dir=tmp_path) as fleet:
        native, plain = fleet["native84"], fleet["no_tls80"]
        with pytest.raises(pymysql.err.OperationalError) as refused:
            pymysql.connect(
                host=native.host, port=native.port, user=native.canary.username,
                password=native.canary.password, ssl_disabled=True, connect_timeout=5,
            )  # fmt: skip
        assert refused.value.args == (1524, "Plugin 'mysql_native_password' is not loaded")
        assert not _greeting(plain).tls_offered
        conn = pymysql.connect(
            host=plain.host, port=plain.port, user=plain.app_plain.username,
            password=plain.app_plain.password, ssl_disabled=True, connect_timeout=5,
        )  # fmt: skip
        with conn, conn.cursor() as cur:
            cur.execute("SELECT @@have_ssl, @@have_openssl")
            assert cur.fetchall() == (("DISABLED", "DISABLED"),)


def test_the_servers_own_threads_are_there_without_a_connection_type(mysql8_fleet):
    with _connect(mysql8_fleet, "mysql80_enforced") as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT name, type, processlist_user FROM performance_schema.threads "
            "WHERE connection_type IS NULL AND name LIKE 'thread/sql/%' ORDER BY name"
        )
        assert [d[0] for d in cur.description] == ["name", "type", "processlist_user"]
        assert cur.fetchall() == (
            ("thread/sql/compress_gtid_table", "FOREGROUND", None),
            ("thread/sql/event_scheduler", "FOREGROUND", "event_scheduler"),
            ("thread/sql/main", "BACKGROUND", None),
            ("thread/sql/signal_handler", "BACKGROUND", None),
        )


def test_group_replication_members_and_variables(mysql8_fleet):
    with _connect(mysql8_fleet, "mysql84_enforced") as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT MEMBER_HOST, MEMBER_PORT, MEMBER_STATE, MEMBER_ROLE, MEMBER_VERSION "
            "FROM performance_schema.replication_group_members ORDER BY MEMBER_ROLE"
        )
        host = endpoint_name("mysql84_enforced")
        assert cur.fetchall() == (
            (host, 3306, "ONLINE", "PRIMARY", "8.4.3"),
            (f"peer-{host}", 3306, "ONLINE", "SECONDARY", "8.4.3"),
        )
        cur.execute("SHOW GLOBAL VARIABLES LIKE 'group_replication_ssl_mode'")
        assert cur.fetchall() == (("group_replication_ssl_mode", "REQUIRED"),)
    with _connect(mysql8_fleet, "mysql80_enforced") as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM performance_schema.replication_group_members")
        assert cur.fetchall() == ((0,),)
        with pytest.raises(pymysql.err.OperationalError) as unknown:
            cur.execute("SELECT @@group_replication_ssl_mode")
        assert unknown.value.args[0] == 1193  # the plugin is not installed


def test_require_ssl_account_without_tls_is_refused_before_secure_transport(mysql8_fleet):
    # acl_authenticate() checks the account's REQUIRE SSL (1045) before the server-wide
    # require_secure_transport (3159): only an account without REQUIRE SSL sees 3159.
    with pytest.raises(pymysql.err.OperationalError) as refused:
        _connect(mysql8_fleet, "mysql80_enforced", user="app_ssl", ssl_disabled=True)
    assert refused.value.args[0] == 1045


def test_show_like_patterns_escape_with_a_backslash_as_in_mysql(mysql8_fleet):
    with _connect(mysql8_fleet, "mysql80_enforced") as conn, conn.cursor() as cur:
        cur.execute(r"SHOW GLOBAL VARIABLES LIKE 'tls\_%'")
        assert [name for name, _ in cur.fetchall()] == [
            "tls_certificates_enforced_validation",
            "tls_ciphersuites",
            "tls_version",
        ]
        cur.execute("SHOW STATUS LIKE 'ssl_version'")  # case-insensitive, as MySQL compares
        assert cur.fetchall() == (("Ssl_version", "TLSv1.3"),)


# SHOW REPLICA STATUS as MySQL declares it: show_slave_status_metadata() in
# sql/rpl_replica.cc of mysql/mysql-server (commit 0305767c), in order. "i" is an
# Item_return_int of MYSQL_TYPE_LONG, "I" of MYSQL_TYPE_LONGLONG, "s" an Item_empty_string.
# Kept here apart from fleet/mysql8/tables.py so that the persona is checked against the source.
DOCUMENTED_REPLICA_STATUS = (
    ("Replica_IO_State", "s"), ("Source_Host", "s"), ("Source_User", "s"),
    ("Source_Port", "i"), ("Connect_Retry", "i"), ("Source_Log_File", "s"),
    ("Read_Source_Log_Pos", "I"), ("Relay_Log_File", "s"), ("Relay_Log_Pos", "I"),
    ("Relay_Source_Log_File", "s"), ("Replica_IO_Running", "s"), ("Replica_SQL_Running", "s"),
    ("Replicate_Do_DB", "s"), ("Replicate_Ignore_DB", "s"), ("Replicate_Do_Table", "s"),
    ("Replicate_Ignore_Table", "s"), ("Replicate_Wild_Do_Table", "s"),
    ("Replicate_Wild_Ignore_Table", "s"), ("Last_Errno", "i"), ("Last_Error", "s"),
    ("Skip_Counter", "i"), ("Exec_Source_Log_Pos", "I"), ("Relay_Log_Space", "I"),
    ("Until_Condition", "s"), ("Until_Log_File", "s"), ("Until_Log_Pos", "I"),
    ("Source_SSL_Allowed", "s"), ("Source_SSL_CA_File", "s"), ("Source_SSL_CA_Path", "s"),
    ("Source_SSL_Cert", "s"), ("Source_SSL_Cipher", "s"), ("Source_SSL_Key", "s"),
    ("Seconds_Behind_Source", "I"), ("Source_SSL_Verify_Server_Cert", "s"),
    ("Last_IO_Errno", "i"), ("Last_IO_Error", "s"), ("Last_SQL_Errno", "i"),
    ("Last_SQL_Error", "s"), ("Replicate_Ignore_Server_Ids", "s"), ("Source_Server_Id", "i"),
    ("Source_UUID", "s"), ("Source_Info_File", "s"), ("SQL_Delay", "i"),
    ("SQL_Remaining_Delay", "i"), ("Replica_SQL_Running_State", "s"),
    ("Source_Retry_Count", "I"), ("Source_Bind", "s"), ("Last_IO_Error_Timestamp", "s"),
    ("Last_SQL_Error_Timestamp", "s"), ("Source_SSL_Crl", "s"), ("Source_SSL_Crlpath", "s"),
    ("Retrieved_Gtid_Set", "s"), ("Executed_Gtid_Set", "s"), ("Auto_Position", "i"),
    ("Replicate_Rewrite_DB", "s"), ("Channel_Name", "s"), ("Source_TLS_Version", "s"),
    ("Source_public_key_path", "s"), ("Get_Source_public_key", "i"), ("Network_Namespace", "s"),
)  # fmt: skip
_WIRE_TYPE = {"i": FIELD_TYPE.LONG, "I": FIELD_TYPE.LONGLONG, "s": FIELD_TYPE.VAR_STRING}


def test_show_replica_status_has_mysqls_columns_types_and_nulls(mysql8_fleet):
    with _connect(mysql8_fleet, "mysql80_replica_unverified") as conn, conn.cursor() as cur:
        cur.execute("SHOW REPLICA STATUS")
        shape = [(d[0], d[1]) for d in cur.description]
        row = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    assert shape == [(name, _WIRE_TYPE[kind]) for name, kind in DOCUMENTED_REPLICA_STATUS]
    # The replica threads are stopped: show_slave_status_send_data() stores NULL for these two
    # and "None" as the until condition; the TLS settings are the channel's.
    assert row["Seconds_Behind_Source"] is None and row["SQL_Remaining_Delay"] is None
    assert row["Until_Condition"] == "None" and row["Replica_SQL_Running"] == "No"
    assert row["Source_SSL_Allowed"] == "Yes" and row["Source_SSL_Verify_Server_Cert"] == "No"
    assert row["Source_TLS_Version"] == "TLSv1.1,TLSv1.2" and row["Get_Source_public_key"] == 0


def test_show_slave_status_uses_the_old_names(mysql8_fleet):
    # sql/rpl_slave.cc (mysql/mysql-server @2a73d979, before 8.0.22) declares the same columns
    # as Slave_*/Master_*, with one exception to the plain substitution: Get_master_public_key.
    with _connect(mysql8_fleet, "mysql80_old_replica_plain") as conn, conn.cursor() as cur:
        cur.execute("SHOW SLAVE STATUS")
        names = [d[0] for d in cur.description]
    assert names[:3] == ["Slave_IO_State", "Master_Host", "Master_User"]
    assert "Relay_Master_Log_File" in names and "Slave_SQL_Running_State" in names
    assert names[-3:-1] == ["Master_public_key_path", "Get_master_public_key"]
    assert len(names) == len(DOCUMENTED_REPLICA_STATUS)


def test_replication_configuration_has_the_columns_of_its_version(mysql8_fleet):
    # The 8.0.27+ DDL (storage/perfschema/table_replication_connection_configuration.cc) has
    # 27 columns; an 8.0.18 has neither TLS_CIPHERSUITES (8.0.19) nor the 8.0.22/8.0.27 ones.
    sql = "SELECT * FROM performance_schema.replication_connection_configuration"
    names = {}
    for scenario in ("mysql80_replica_unverified", "mysql80_old_replica_tls"):
        with _connect(mysql8_fleet, scenario) as conn, conn.cursor() as cur:
            cur.execute(sql)
            names[scenario] = [d[0] for d in cur.description]
    newest = names["mysql80_replica_unverified"]
    assert len(newest) == 27 and newest[-3:] == [
        "TLS_CIPHERSUITES",
        "SOURCE_CONNECTION_AUTO_FAILOVER",
        "GTID_ONLY",
    ]
    assert names["mysql80_old_replica_tls"] == newest[:24]
    assert names["mysql80_old_replica_tls"][-2:] == [
        "COMPRESSION_ALGORITHM",
        "ZSTD_COMPRESSION_LEVEL",
    ]
