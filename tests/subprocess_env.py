"""The environment for a subprocess of a test (a Celery worker, a management command):
production settings, a fresh signing key, the test's database, and moto-only AWS keys."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def django_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CELERY_"))}
    for name in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="tlsposture.settings",  # production settings, as deployed
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=database_url,
        TLSPOSTURE_DATA_DIR=str(data_dir),
        # moto accepts any key pair; these are not credentials of anything.
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(data_dir / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(data_dir / "no-aws-credentials"),
        **extra,
    )
    return env


def database_url_of(connection) -> str:
    """A URL for the database `connection` uses (pytest-django's test database)."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    if connection.vendor != "postgresql":
        raise ValueError(f"no URL for a {connection.vendor} database")
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    port = config["PORT"] or 5432
    return f"postgres://{config['USER']}{password}@{config['HOST']}:{port}/{config['NAME']}"
