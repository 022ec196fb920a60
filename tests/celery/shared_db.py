"""Point this test process's ORM at the database the Celery workers use.

The workers are separate processes, so they need a real server both sides can reach;
pytest-django's own test database is SQLite in the first pass of `make test`. These tests
therefore always use a PostgreSQL database of their own (fleet/postgres.py) and, while a
test runs, swap this process's default connection for one to it (Django keeps connections
per alias in a swappable handler; settings.DATABASES is left alone).
"""

from __future__ import annotations

from contextlib import contextmanager

import dj_database_url
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import load_backend


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
