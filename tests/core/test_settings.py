"""Settings come from the environment and refuse unsafe production starts."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}
    }
    clean.update(DJANGO_SETTINGS_MODULE="tlsposture.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    done = _manage("check")
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stderr


def test_production_settings_pass_check_deploy(tmp_path):
    done = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="tlsposture.example.com",
        TLSPOSTURE_DATA_DIR=str(tmp_path),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "System check identified no issues (0 silenced)."


def test_database_url_selects_postgresql():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; import django; django.setup();"
            "d = settings.DATABASES['default'];"
            "print(d['ENGINE'], d['NAME'], d['HOST'], d['PORT'])",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tlsposture.settings",
            "SECRET_KEY": "x" * 60,
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/tlsposture",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == [
        "django.db.backends.postgresql",
        "tlsposture",
        "127.0.0.1",
        "5432",
    ]


def test_default_database_is_sqlite_under_the_data_dir(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; import django; django.setup();"
            "print(settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME'])",
        ],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            "DJANGO_SETTINGS_MODULE": "tlsposture.settings",
            "DEBUG": "1",
            "TLSPOSTURE_DATA_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    engine, name = done.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert name == str(tmp_path / "tlsposture.sqlite3")


def test_migrations_match_the_models():
    done = _manage("makemigrations", "--check", "--dry-run", DEBUG="1")
    assert done.returncode == 0, done.stdout + done.stderr


def test_cache_url_selects_a_shared_redis_cache():
    # Real Redis on loopback (db 15): two processes see one another's "check now" claims.
    claim = (
        "import django; django.setup(); from django.core.cache import cache;"
        "import sys; key = sys.argv[1]; print(cache.add(key, 1, 30))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tlsposture.settings",
        "SECRET_KEY": "x" * 60,
        "CACHE_URL": "redis://127.0.0.1:6379/15",
    }
    key = f"tlsposture-test-{secrets.token_hex(6)}"
    outputs = [
        subprocess.run(
            [sys.executable, "-c", claim, key],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
        for _ in range(2)
    ]
    assert outputs == ["True", "False"]


def test_cache_url_must_name_redis():
    done = _manage("check", SECRET_KEY="x" * 60, CACHE_URL="memcached://127.0.0.1:11211")
    assert done.returncode != 0
    assert "CACHE_URL must be a redis:// or rediss:// URL" in done.stderr
