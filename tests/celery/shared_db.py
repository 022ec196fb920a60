"""A PostgreSQL database shared by the test process and its Celery worker subprocesses.

The workers are separate processes, so they need a real server both sides can reach;
pytest-django's own test database is SQLite in the first pass of `make test`. These tests
therefore always create their own PostgreSQL database and, while a test runs, point this
process's default connection at it (Django keeps connections per alias in a swappable
handler; settings.DATABASES is left alone).
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager

import dj_database_url
import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import load_backend

LOCAL_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def server_url(database_url: str) -> str:
    """The PostgreSQL server to use: DATABASE_URL's when it names one, else the local one."""
    return database_url if database_url.startswith("postgres") else LOCAL_SERVER


def answers(url: str) -> bool:
    try:
        psycopg.connect(_conninfo(url), connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def create_database(server: str) -> str:
    """A fresh, empty database on `server`; returns its URL."""
    name = f"tlsp_celery_{secrets.token_hex(4)}"
    with psycopg.connect(_conninfo(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_name(server, name)


def drop_database(url: str) -> None:
    name = dj_database_url.parse(url)["NAME"]
    with psycopg.connect(_conninfo(_with_name(url, "postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def default_connection_to(url: str):
    """Make `url` this thread's default database for the length of the block."""
    configured = connections.configure_settings({DEFAULT_DB_ALIAS: dj_database_url.parse(url)})
    settings_dict = configured[DEFAULT_DB_ALIAS]
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict)
    before = connections[DEFAULT_DB_ALIAS]
    connections[DEFAULT_DB_ALIAS] = wrapper
    try:
        yield wrapper
    finally:
        wrapper.close()
        connections[DEFAULT_DB_ALIAS] = before


def raw_connection(url: str, **kwargs) -> psycopg.Connection:
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
