"""Throwaway PostgreSQL databases on a running server, for tests and benchmarks whose
worker subprocesses must share a database with the process that drives them."""

from __future__ import annotations

import secrets

import dj_database_url
import psycopg

LOCAL_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def server_url(database_url: str) -> str:
    """The server to use: DATABASE_URL's when it names PostgreSQL, else the local one. Its
    maintenance database, `postgres`: the database DATABASE_URL names need not exist (the
    test runner creates `test_<name>` beside it)."""
    if not database_url.startswith("postgres"):
        return LOCAL_SERVER
    return _with_name(database_url, "postgres")


def answers(url: str) -> bool:
    try:
        psycopg.connect(_conninfo(url), connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def create_database(server: str, prefix: str = "tlsp_scratch") -> str:
    """A fresh, empty database on `server`; returns its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(_conninfo(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_name(server, name)


def drop_database(url: str) -> None:
    name = dj_database_url.parse(url)["NAME"]
    with psycopg.connect(_conninfo(_with_name(url, "postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def connect(url: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(_conninfo(url), **kwargs)


def _conninfo(url: str) -> str:
    parts = dj_database_url.parse(url)
    return psycopg.conninfo.make_conninfo(
        dbname=parts["NAME"] or "postgres",
        user=parts["USER"] or "postgres",
        password=parts["PASSWORD"] or None,
        host=parts["HOST"] or "127.0.0.1",
        port=parts["PORT"] or 5432,
    )


def _with_name(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"
