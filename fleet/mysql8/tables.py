"""The persona's tables: MySQL 8's column names, order, types and NULLs, filled from a World.

Column layouts follow mysql-server's mysql-test files (checked:
mysql-test/suite/perfschema/r/table_schema.result, which lists every performance_schema
column with DATA_TYPE, IS_NULLABLE and COLUMN_TYPE; mysql-test/suite/perfschema/r/
threads_mysql.result for the server's own threads — main and signal_handler BACKGROUND, the
event scheduler and compress_gtid_table FOREGROUND without a connection, clients as
thread/sql/one_connection with PROCESSLIST_INFO their statement — and that result sets echo
the select list's spelling; mysql-test/suite/rpl/r/rpl_perfschema_connect_config.result for
replication_connection_configuration holding what SHOW SLAVE STATUS shows, field by field)
and the 8.0/8.4 reference manual's pages for the same tables. Where 8.0 added columns
(MEMBER_COMMUNICATION_STACK in 8.0.27) the persona shows the newer layout; TLS_CIPHERSUITES
(8.0.19) is left out before its version (SINCE). Only the columns
a TLS checker can ask about carry meaning; the others hold MySQL's values for an idle server.

The tables live in an in-memory SQLite database per connection (fleet/mysql8/sql.py), with
text compared case-insensitively as MySQL's default collations do.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleet.mysql8.world import World


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # MySQL column type: varchar(64), char(64), enum(...), int, bigint unsigned, text
    nullable: bool = False


def _cols(spec: str) -> tuple[Column, ...]:
    """'NAME type [NULL]; …' → columns (a compact way to write a table's layout)."""
    columns = []
    for part in spec.split(";"):
        words = part.split()
        if not words:
            continue
        nullable = words[-1] == "NULL"
        kind = " ".join(words[1:-1] if nullable else words[1:])
        columns.append(Column(words[0], kind, nullable))
    return tuple(columns)


TABLES: dict[str, tuple[Column, ...]] = {
    # mysql.user (8.0/8.4 layout, the columns that matter; the grant columns are left out).
    "mysql.user": _cols(
        "Host char(255); User char(32); ssl_type enum('','ANY','X509','SPECIFIED');"
        "ssl_cipher blob; x509_issuer blob; x509_subject blob; max_questions int unsigned;"
        "plugin char(64); authentication_string text NULL; password_expired enum('N','Y');"
        "account_locked enum('N','Y')"
    ),
    "performance_schema.replication_connection_configuration": _cols(
        "CHANNEL_NAME char(64); HOST char(255); PORT int; USER char(32);"
        "NETWORK_INTERFACE char(60); AUTO_POSITION enum('1','0');"
        "SSL_ALLOWED enum('YES','NO','IGNORED'); SSL_CA_FILE varchar(512);"
        "SSL_CA_PATH varchar(512); SSL_CERTIFICATE varchar(512); SSL_CIPHER varchar(512);"
        "SSL_KEY varchar(512); SSL_VERIFY_SERVER_CERTIFICATE enum('YES','NO');"
        "SSL_CRL_FILE varchar(255); SSL_CRL_PATH varchar(255);"
        "CONNECTION_RETRY_INTERVAL int; CONNECTION_RETRY_COUNT bigint unsigned;"
        "HEARTBEAT_INTERVAL double; TLS_VERSION varchar(255); PUBLIC_KEY_PATH varchar(512);"
        "GET_PUBLIC_KEY enum('YES','NO'); NETWORK_NAMESPACE varchar(64);"
        "COMPRESSION_ALGORITHM char(64); ZSTD_COMPRESSION_LEVEL int;"
        "TLS_CIPHERSUITES text NULL; SOURCE_CONNECTION_AUTO_FAILOVER enum('1','0');"
        "GTID_ONLY enum('1','0')"
    ),
    "performance_schema.replication_group_members": _cols(
        "CHANNEL_NAME char(64); MEMBER_ID char(36); MEMBER_HOST char(255); MEMBER_PORT int NULL;"
        "MEMBER_STATE char(64); MEMBER_ROLE char(64); MEMBER_VERSION char(64);"
        "MEMBER_COMMUNICATION_STACK char(64)"
    ),
    # storage/perfschema/table_threads.cc @e117a2b5 (mysql/mysql-server): these 18 columns in
    # this order; TYPE is FOREGROUND exactly when there is a PROCESSLIST_ID, ROLE is always
    # NULL, CONNECTION_TYPE NULL without a connection. (That 8.0 has PROCESSLIST_HOST
    # VARCHAR(60); later releases' extra columns, e.g. EXECUTION_ENGINE, are not checked.)
    "performance_schema.threads": _cols(
        "THREAD_ID bigint unsigned; NAME varchar(128); TYPE varchar(10);"
        "PROCESSLIST_ID bigint unsigned NULL; PROCESSLIST_USER varchar(32) NULL;"
        "PROCESSLIST_HOST varchar(255) NULL; PROCESSLIST_DB varchar(64) NULL;"
        "PROCESSLIST_COMMAND varchar(16) NULL; PROCESSLIST_TIME bigint NULL;"
        "PROCESSLIST_STATE varchar(64) NULL; PROCESSLIST_INFO longtext NULL;"
        "PARENT_THREAD_ID bigint unsigned NULL; ROLE varchar(64) NULL;"
        "INSTRUMENTED enum('YES','NO'); HISTORY enum('YES','NO');"
        "CONNECTION_TYPE varchar(16) NULL; THREAD_OS_ID bigint unsigned NULL;"
        "RESOURCE_GROUP varchar(64) NULL"
    ),
    "performance_schema.status_by_thread": _cols(
        "THREAD_ID bigint unsigned; VARIABLE_NAME varchar(64); VARIABLE_VALUE varchar(1024) NULL"
    ),
    "performance_schema.global_variables": _cols(
        "VARIABLE_NAME varchar(64); VARIABLE_VALUE varchar(1024) NULL"
    ),
    "performance_schema.session_status": _cols(
        "VARIABLE_NAME varchar(64); VARIABLE_VALUE varchar(1024) NULL"
    ),
}
# Columns a version before the given one does not have. Checked layouts (mysql/mysql-server):
# - storage/perfschema/table_replication_connection_configuration.cc @81e1df71 (8.0.27+ DDL:
#   the 27 columns above, TLS_CIPHERSUITES TEXT NULL, then SOURCE_CONNECTION_AUTO_FAILOVER and
#   GTID_ONLY);
# - mysql-test/suite/perfschema/r/table_schema.result @15612365 (an earlier 8.0: the table ends
#   at NETWORK_NAMESPACE, without COMPRESSION_ALGORITHM/ZSTD_COMPRESSION_LEVEL; and
#   replication_group_members has 7 columns, no MEMBER_COMMUNICATION_STACK);
# - storage/perfschema/table_replication_group_members.cc @58713407 (the same 7 columns).
# The release each column came with is the manual's (not in a file checked): compression
# 8.0.18, TLS_CIPHERSUITES 8.0.19 (WL#13392), SOURCE_CONNECTION_AUTO_FAILOVER 8.0.22,
# GTID_ONLY and MEMBER_COMMUNICATION_STACK 8.0.27.
_RCC = "performance_schema.replication_connection_configuration"
SINCE = {
    (_RCC, "COMPRESSION_ALGORITHM"): (8, 0, 18),
    (_RCC, "ZSTD_COMPRESSION_LEVEL"): (8, 0, 18),
    (_RCC, "TLS_CIPHERSUITES"): (8, 0, 19),
    (_RCC, "SOURCE_CONNECTION_AUTO_FAILOVER"): (8, 0, 22),
    (_RCC, "GTID_ONLY"): (8, 0, 27),
    ("performance_schema.replication_group_members", "MEMBER_COMMUNICATION_STACK"): (8, 0, 27),
}

# SHOW REPLICA STATUS (8.0.22+): name and type of each column, in order, as
# show_slave_status_metadata() in sql/rpl_replica.cc (mysql/mysql-server @0305767c) declares
# them: Item_empty_string(name, n) → varchar(n), Item_return_int(…, MYSQL_TYPE_LONG) → int,
# MYSQL_TYPE_LONGLONG → bigint. Literal lengths are the declared ones; the symbolic ones
# (HOSTNAME_LENGTH, USERNAME_LENGTH, FN_REFLEN, UUID_LENGTH, CHANNEL_NAME_LENGTH, NAME_LEN)
# are taken as 255, 32, 512, 36, 64 and 192, not read from their headers; the two GTID sets
# are as long as the set's text (0 when empty). The values (show_slave_status_send_data)
# hold no NULL except Seconds_Behind_Source (NULL unless the applier runs) and
# SQL_Remaining_Delay (NULL unless it waits out SQL_Delay).
REPLICA_STATUS = _cols(
    "Replica_IO_State varchar(14); Source_Host varchar(256); Source_User varchar(33);"
    "Source_Port int; Connect_Retry int; Source_Log_File varchar(512);"
    "Read_Source_Log_Pos bigint; Relay_Log_File varchar(512); Relay_Log_Pos bigint;"
    "Relay_Source_Log_File varchar(512); Replica_IO_Running varchar(3);"
    "Replica_SQL_Running varchar(3); Replicate_Do_DB varchar(20);"
    "Replicate_Ignore_DB varchar(20); Replicate_Do_Table varchar(20);"
    "Replicate_Ignore_Table varchar(23); Replicate_Wild_Do_Table varchar(24);"
    "Replicate_Wild_Ignore_Table varchar(28); Last_Errno int; Last_Error varchar(20);"
    "Skip_Counter int; Exec_Source_Log_Pos bigint; Relay_Log_Space bigint;"
    "Until_Condition varchar(6); Until_Log_File varchar(512); Until_Log_Pos bigint;"
    "Source_SSL_Allowed varchar(7); Source_SSL_CA_File varchar(512);"
    "Source_SSL_CA_Path varchar(512); Source_SSL_Cert varchar(512);"
    "Source_SSL_Cipher varchar(512); Source_SSL_Key varchar(512);"
    "Seconds_Behind_Source bigint NULL; Source_SSL_Verify_Server_Cert varchar(3);"
    "Last_IO_Errno int; Last_IO_Error varchar(20); Last_SQL_Errno int;"
    "Last_SQL_Error varchar(20); Replicate_Ignore_Server_Ids varchar(512);"
    "Source_Server_Id int; Source_UUID varchar(36); Source_Info_File varchar(1024);"
    "SQL_Delay int; SQL_Remaining_Delay int NULL; Replica_SQL_Running_State varchar(20);"
    "Source_Retry_Count bigint; Source_Bind varchar(256); Last_IO_Error_Timestamp varchar(20);"
    "Last_SQL_Error_Timestamp varchar(20); Source_SSL_Crl varchar(512);"
    "Source_SSL_Crlpath varchar(512); Retrieved_Gtid_Set varchar(0);"
    "Executed_Gtid_Set varchar(0); Auto_Position int; Replicate_Rewrite_DB varchar(24);"
    "Channel_Name varchar(64); Source_TLS_Version varchar(512);"
    "Source_public_key_path varchar(512); Get_Source_public_key int;"
    "Network_Namespace varchar(193)"
)
# SHOW SLAVE STATUS spells Source/Replica as Master/Slave. sql/rpl_slave.cc @2a73d979 (an 8.0
# before 8.0.22, when these names were the only ones) declares them; one is not the plain
# substitution: Get_master_public_key.
LEGACY_NAMES = {"Get_Source_public_key": "Get_master_public_key"}


def legacy_name(name: str) -> str:
    return LEGACY_NAMES.get(name) or name.replace("Source", "Master").replace("Replica", "Slave")


def columns_of(table: str, version: tuple[int, ...]) -> list[int]:
    """Indexes of the columns `table` has in `version`."""
    return [
        i
        for i, column in enumerate(TABLES[table])
        if version >= SINCE.get((table, column.name), ())
    ]


# Readable by every account, as in MySQL (the variables and this session's status).
PUBLIC_TABLES = {"performance_schema.global_variables", "performance_schema.session_status"}

# The server's own threads before the first client (threads_mysql.result): NAME, TYPE,
# PROCESSLIST_USER, PROCESSLIST_HOST, PROCESSLIST_DB, PROCESSLIST_COMMAND. None has a
# CONNECTION_TYPE: only client connections do.
_SERVER_THREADS = (
    ("thread/sql/main", "BACKGROUND", None, None, "mysql", None),
    ("thread/innodb/io_ibuf_thread", "BACKGROUND", None, None, None, None),
    ("thread/sql/signal_handler", "BACKGROUND", None, None, None, None),
    ("thread/sql/compress_gtid_table", "FOREGROUND", None, None, None, "Daemon"),
    ("thread/sql/event_scheduler", "FOREGROUND", "event_scheduler", "localhost", None, "Daemon"),
)
_FIRST_CLIENT_THREAD = 40


def channel_rows(world: World) -> list[tuple]:
    rows = []
    for c in world.channels:
        rows.append(
            (
                c.name, c.host, c.port, c.user, "", "0",
                "YES" if c.ssl else "NO", c.ssl_ca, "", "", "", "",
                "YES" if c.verify_server_cert else "NO", "", "",
                60, 10, 30.0, c.tls_version, "", "NO", "",
                "uncompressed", 3, c.tls_ciphersuites, "0", "0",
            )
        )  # fmt: skip
    return rows


def thread_rows(world: World, own: dict) -> tuple[list[tuple], list[tuple]]:
    """performance_schema.threads and status_by_thread: background threads, the world's
    clients and this connection (`own`: user, host, tls_version, tls_cipher, id)."""
    threads, status = [], []
    for number, (name, kind, user, host, db, command) in enumerate(_SERVER_THREADS, start=1):
        foreground = kind == "FOREGROUND"
        threads.append(
            (number, name, kind, number if foreground else None, user, host, db, command,
             0 if foreground else None, None, None, None if number == 1 else 1, None,
             "YES", "YES", None, 1000 + number, "SYS_default")
        )  # fmt: skip
        if foreground:  # status_by_thread lists every foreground thread
            status.append((number, "Ssl_version", ""))
            status.append((number, "Ssl_cipher", ""))
    clients = [
        {
            "user": t.user,
            "host": t.host,
            "tls_version": t.tls_version,
            "tls_cipher": t.tls_cipher,
            "db": t.db,
            "command": t.command,
            "seconds": t.seconds,
        }
        for t in world.client_threads
    ]
    clients.append({**own, "db": None, "command": "Query", "seconds": 0})
    for offset, client in enumerate(clients):
        thread_id = _FIRST_CLIENT_THREAD + offset
        processlist_id = own["id"] if client is clients[-1] else 8 + offset
        tls = bool(client["tls_version"])
        threads.append(
            (thread_id, "thread/sql/one_connection", "FOREGROUND", processlist_id,
             client["user"], client["host"], client["db"], client["command"],
             client["seconds"], None, None, None, None, "YES", "YES",
             "SSL/TLS" if tls else "TCP/IP", 2000 + offset, "USR_default")
        )  # fmt: skip
        status.append((thread_id, "Ssl_version", client["tls_version"]))
        status.append((thread_id, "Ssl_cipher", client["tls_cipher"]))
    return threads, status


def user_rows(world: World) -> list[tuple]:
    rows = [
        ("localhost", "root", "", "", "", "", 0, "caching_sha2_password", "", "N", "N"),
        ("localhost", "mysql.sys", "", "", "", "", 0, "caching_sha2_password", "", "N", "Y"),
    ]
    for a in world.accounts:
        rows.append(
            (a.host, a.user, a.ssl_type, "", "", "", 0, a.plugin, "<hash>", "N",
             "Y" if a.locked else "N")
        )  # fmt: skip
    return rows


def member_rows(world: World) -> list[tuple]:
    return [
        (
            "group_replication_applier",
            m.get("id", ""),
            m.get("host", ""),
            m.get("port", 3306),
            m.get("state", "ONLINE"),
            m.get("role", "PRIMARY"),
            m.get("version", world.version),
            m.get("stack", "XCOM"),
        )
        for m in world.group_members
    ]
