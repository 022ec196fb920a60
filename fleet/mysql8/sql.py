"""Answer a statement as MySQL 8.0/8.4 would, from the persona's World.

A small SQL subset: SHOW [GLOBAL|SESSION] VARIABLES/STATUS [LIKE|WHERE], SHOW REPLICA
STATUS (SHOW SLAVE STATUS on 8.0 only), SELECT @@variables, and SELECT … FROM the tables
of fleet/mysql8/tables.py with joins, WHERE, ORDER BY and aggregates — those run on an
in-memory SQLite copy of the tables, which speaks enough of the same SQL. Anything else that
reads is a syntax error (1064), as MySQL answers MariaDB-only statements; SET of session
state is accepted, SET GLOBAL is refused (1227) since the persona's world is fixed.

Errors carry MySQL's codes, SQLSTATEs and messages (1193 unknown system variable, 1142
table access denied, 1227 privilege needed, 1146 unknown table, 1054 unknown column).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

from fleet.mysql8 import tables
from fleet.mysql8.world import Account, World


@dataclass
class Result:
    columns: list[tuple[str, str, str]]  # (name, MySQL column type, table)
    rows: list[tuple] = field(default_factory=list)


@dataclass
class Ok:
    pass


@dataclass
class Error(Exception):
    code: int
    sqlstate: str
    message: str


def syntax_error(near: str) -> Error:
    return Error(
        1064,
        "42000",
        "You have an error in your SQL syntax; check the manual that corresponds to your "
        f"MySQL server version for the right syntax to use near '{near[:80]}' at line 1",
    )


def unknown_variable(name: str) -> Error:
    return Error(1193, "HY000", f"Unknown system variable '{name}'")


def privilege_needed(privileges: str) -> Error:
    return Error(
        1227,
        "42000",
        f"Access denied; you need (at least one of) the {privileges} privilege(s) for this "
        "operation",
    )


@dataclass
class Connection:
    """What one client connection knows: its account, address and TLS session."""

    account: Account
    host: str
    tls_version: str = ""
    tls_cipher: str = ""
    connection_id: int = 1


# -- the SQLite copy ------------------------------------------------------------------------


def _sqlite_type(mysql_type: str) -> str:
    kind = mysql_type.split("(")[0].split()[0].lower()
    if kind in ("int", "bigint", "tinyint", "smallint"):
        return "INTEGER"
    if kind in ("double", "float", "decimal"):
        return "REAL"
    return "TEXT COLLATE NOCASE"


class Catalogue:
    """The tables of one connection, in SQLite."""

    def __init__(self, world: World, conn: Connection, status: dict[str, str]):
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        for schema in ("mysql", "performance_schema"):
            self.db.execute(f"ATTACH DATABASE ':memory:' AS {schema}")
        own = {
            "user": conn.account.user,
            "host": conn.host,
            "tls_version": conn.tls_version,
            "tls_cipher": conn.tls_cipher,
            "id": conn.connection_id,
        }
        threads, by_thread = tables.thread_rows(world, own)
        variables = sorted(world.variables().items())
        data = {
            "mysql.user": tables.user_rows(world),
            "performance_schema.replication_connection_configuration": tables.channel_rows(world),
            "performance_schema.replication_group_members": tables.member_rows(world),
            "performance_schema.threads": threads,
            "performance_schema.status_by_thread": by_thread,
            "performance_schema.global_variables": variables,
            "performance_schema.session_status": sorted(status.items()),
        }
        for name, columns in tables.TABLES.items():
            kept = tables.columns_of(name, world.version_tuple)
            definition = ", ".join(
                f'"{columns[i].name}" {_sqlite_type(columns[i].type)}' for i in kept
            )
            self.db.execute(f"CREATE TABLE {name} ({definition})")
            marks = ", ".join("?" * len(kept))
            rows = [tuple(row[i] for i in kept) for row in data[name]]
            self.db.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)  # noqa: S608

    def query(self, sql: str, referenced: list[str]) -> Result:
        try:
            cursor = self.db.execute(sql)
        except sqlite3.OperationalError as exc:
            raise _sqlite_error(str(exc), sql) from None
        rows = cursor.fetchall()
        written = _select_list(sql)
        columns = [
            _describe(d[0], written, referenced, [r[i] for r in rows])
            for i, d in enumerate(cursor.description)
        ]
        return Result(columns, rows)


def _sqlite_error(message: str, sql: str) -> Error:
    if message.startswith("no such table"):
        name = message.split(":", 1)[1].strip()
        schema, _, table = name.rpartition(".")
        return Error(1146, "42S02", f"Table '{schema or 'mysql'}.{table}' doesn't exist")
    if message.startswith("no such column"):
        column = message.split(":", 1)[1].strip()
        return Error(1054, "42S22", f"Unknown column '{column}' in 'field list'")
    if message.startswith("no such function"):
        function = message.split(":", 1)[1].strip()
        return Error(1305, "42000", f"FUNCTION {function} does not exist")
    return syntax_error(sql)


def _select_list(sql: str) -> str:
    match = re.match(r"\s*select\s+(.*?)(?:\bfrom\b|$)", sql, re.I | re.S)
    return match.group(1) if match else ""


def _describe(name: str, written: str, referenced: list[str], values: list) -> tuple:
    """(name as the client wrote it, MySQL type, table): MySQL echoes the select list's
    spelling, SQLite the declared one."""
    spelled = re.search(rf"(?<![\w@])(?:\w+\.)?({re.escape(name)})(?!\w)", written, re.I)
    shown = spelled.group(1) if spelled else name
    for table in referenced:
        for column in tables.TABLES.get(table, ()):
            if column.name.lower() == name.lower():
                return shown, column.type, table.split(".")[1]
    known = [v for v in values if v is not None]
    if known and all(isinstance(v, int) for v in known):
        return shown, "bigint", ""
    return shown, "varchar(1024)", ""


# -- statements -----------------------------------------------------------------------------

_TABLE_REFERENCE = re.compile(r"\b(?:from|join)\s+`?(\w+)`?\s*\.\s*`?(\w+)`?", re.I)
_VARIABLE = re.compile(r"@@(?:(global|session|local)\.)?`?(\w+)`?", re.I)
_SHOW_VARS = re.compile(
    r"^show\s+(?:(global|session|local)\s+)?(variables|status)\s*(?:(like|where)\s+(.*))?$",
    re.I | re.S,
)
_SHOW_REPLICA = re.compile(r"^show\s+(replica|slave)\s+status(\s+for\s+channel\s+.*)?$", re.I)


class Answerer:
    def __init__(self, world: World, conn: Connection, status: dict[str, str]):
        self.world = world
        self.conn = conn
        self.status = status
        self.catalogue = Catalogue(world, conn, status)

    def answer(self, statement: str) -> Result | Ok:
        sql = statement.strip().rstrip(";").strip()
        lowered = sql.lower()
        if not sql:
            raise Error(1065, "42000", "Query was empty")
        if lowered.startswith("set "):
            return self._set(sql)
        if lowered.startswith(("use ", "commit", "rollback", "begin", "start transaction")):
            return Ok()
        show = _SHOW_VARS.match(sql)
        if show:
            return self._show_variables(*show.groups())
        replica = _SHOW_REPLICA.match(sql)
        if replica:
            return self._show_replica(replica.group(1).lower())
        if lowered.startswith("select"):
            return self._select(sql)
        raise syntax_error(sql)

    # -- SET ----------------------------------------------------------------------------

    def _set(self, sql: str) -> Ok:
        if re.match(r"set\s+(global|persist|persist_only)\b|set\s+@@(global|persist)", sql, re.I):
            raise privilege_needed("SUPER or SYSTEM_VARIABLES_ADMIN")
        return Ok()

    # -- SHOW ---------------------------------------------------------------------------

    def _show_variables(self, scope, what, kind, condition) -> Result:
        table = (
            "performance_schema.global_variables"
            if what.lower() == "variables"
            else "performance_schema.session_status"
        )
        where = ""
        if kind and kind.lower() == "like":
            # MySQL's LIKE escapes with a backslash by default; SQLite's only when told.
            where = f" WHERE VARIABLE_NAME LIKE {condition} ESCAPE '\\'"
        elif kind:
            where = " WHERE " + re.sub(r"\bvalue\b", "VARIABLE_VALUE", condition, flags=re.I)
            where = re.sub(r"\bvariable_name\b", "VARIABLE_NAME", where, flags=re.I)
        # The persona's own tables: the client's condition runs on them, as in MySQL.
        sql = f"SELECT VARIABLE_NAME, VARIABLE_VALUE FROM {table}{where} ORDER BY VARIABLE_NAME"  # noqa: S608
        result = self.catalogue.query(sql, [table])
        # SHOW … VARIABLES/STATUS: Variable_name varchar(64), Value varchar(1024).
        result.columns = [("Variable_name", "varchar(64)", ""), ("Value", "varchar(1024)", "")]
        return result

    def _show_replica(self, keyword: str) -> Result:
        if keyword == "slave" and self.world.is_84:
            raise syntax_error("SLAVE STATUS")  # removed in 8.4
        if keyword == "replica" and self.world.version_tuple < (8, 0, 22):
            raise syntax_error("REPLICA STATUS")  # came with 8.0.22
        if not self._has_privilege("REPLICATION CLIENT", "SUPER"):
            raise privilege_needed("SUPER, REPLICATION CLIENT")
        return replica_status(self.world, legacy_names=keyword == "slave")

    # -- SELECT -------------------------------------------------------------------------

    def _select(self, sql: str) -> Result:
        referenced = [
            f"{schema.lower()}.{table.lower()}" for schema, table in _TABLE_REFERENCE.findall(sql)
        ]
        for table in referenced:
            if table in tables.TABLES and not self._may_select(table):
                raise Error(
                    1142,
                    "42000",
                    f"SELECT command denied to user '{self.conn.account.user}'@"
                    f"'{self.conn.host}' for table '{table.split('.')[1]}'",
                )
        if not referenced and re.fullmatch(r"select\s+(@@[\w.`]+\s*,?\s*)+", sql, re.I):
            return self._select_variables(sql)
        variables = self.world.variables()

        def literal(match: re.Match) -> str:
            name = match.group(2).lower()
            if name not in variables:
                raise unknown_variable(name)
            return "'" + variables[name].replace("'", "''") + "'"

        rewritten = _VARIABLE.sub(literal, sql)
        rewritten = re.sub(
            r"\b(version|database|user|current_user|connection_id)\s*\(\s*\)",
            lambda m: self._function(m.group(1).lower()),
            rewritten,
            flags=re.I,
        )
        return self.catalogue.query(rewritten, referenced)

    def _function(self, name: str) -> str:
        values = {
            "version": self.world.version,
            "database": None,
            "user": f"{self.conn.account.user}@{self.conn.host}",
            "current_user": f"{self.conn.account.user}@{self.conn.account.host}",
            "connection_id": str(self.conn.connection_id),
        }
        value = values[name]
        return "NULL" if value is None else "'" + value + "'"

    def _select_variables(self, sql: str) -> Result:
        variables = self.world.variables()
        columns, row = [], []
        for match in _VARIABLE.finditer(sql):
            name = match.group(2).lower()
            if name not in variables:
                raise unknown_variable(name)
            columns.append((match.group(0), "varchar(1024)", ""))
            row.append(variables[name])
        return Result(columns, [tuple(row)])

    # -- privileges ---------------------------------------------------------------------

    def _has_privilege(self, *names: str) -> bool:
        held = {p.upper() for p in self.conn.account.privileges}
        return bool(held & {n.upper() for n in names}) or "ALL" in held

    def _may_select(self, table: str) -> bool:
        if table in tables.PUBLIC_TABLES or self._has_privilege("ALL"):
            return True
        schema = table.split(".")[0]
        grants = {g.lower() for g in self.conn.account.selects}
        return table in grants or f"{schema}.*" in grants or "*.*" in grants


def replica_status(world: World, *, legacy_names: bool) -> Result:
    """SHOW REPLICA STATUS / SHOW SLAVE STATUS: the layout of tables.REPLICA_STATUS, one row
    per channel, the replica threads stopped (so the two NULL columns are NULL)."""
    layout = tables.REPLICA_STATUS
    columns = [(tables.legacy_name(c.name) if legacy_names else c.name, c.type, "") for c in layout]
    rows = []
    for c in world.channels:
        values = {
            col.name: None if col.nullable else 0 if col.type in ("int", "bigint") else ""
            for col in layout
        }
        values.update(
            {
                "Source_Host": c.host,
                "Source_User": c.user,
                "Source_Port": c.port,
                "Connect_Retry": 60,
                "Replica_IO_Running": "No",
                "Replica_SQL_Running": "No",
                "Until_Condition": "None",
                "Source_SSL_Allowed": "Yes" if c.ssl else "No",
                "Source_SSL_CA_File": c.ssl_ca,
                "Source_SSL_Verify_Server_Cert": "Yes" if c.verify_server_cert else "No",
                "Source_Info_File": "mysql.slave_master_info",
                "Source_Retry_Count": 86400,
                "Channel_Name": c.name,
                "Source_TLS_Version": c.tls_version,
            }
        )
        rows.append(tuple(values[col.name] for col in layout))
    return Result(columns, rows)
