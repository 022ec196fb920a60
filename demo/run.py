"""Set up and serve the demo on the embedded default (SQLite under var/demo).

Steps are printed as they happen; a second run reuses what exists; Ctrl-C stops everything
this process started.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = Path(os.environ.get("TLSPOSTURE_DEMO_DIR", ROOT / "var" / "demo"))
ADMIN_USERNAME = "admin"


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def demo_environment() -> dict[str, str]:
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DEMO_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="tlsposture.settings",
        DEBUG="1",
        SECRET_KEY=key_file.read_text().strip(),
        TLSPOSTURE_DATA_DIR=str(DEMO_DIR),
        ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    return env


def manage(env: dict[str, str], *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=True, **kwargs
    )


def ensure_admin(env: dict[str, str]) -> None:
    script = (
        "from django.contrib.auth import get_user_model;"
        f"print(get_user_model().objects.filter(username={ADMIN_USERNAME!r}).exists())"
    )
    exists = manage(
        env, "shell", "--no-imports", "-c", script, capture_output=True, text=True
    ).stdout.strip()
    if exists == "True":
        step(
            f"admin user '{ADMIN_USERNAME}' exists (its password was printed when it was "
            f"created; reset it with `.venv/bin/python manage.py changepassword {ADMIN_USERNAME}`"
            f" with TLSPOSTURE_DATA_DIR={DEMO_DIR} DEBUG=1)"
        )
        return
    password = secrets.token_urlsafe(12)
    manage(
        {**env, "DJANGO_SUPERUSER_PASSWORD": password},
        "createsuperuser",
        "--noinput",
        "--username",
        ADMIN_USERNAME,
        "--email",
        "admin@localhost",
        stdout=subprocess.DEVNULL,
    )
    step(f"created admin user '{ADMIN_USERNAME}' with password: {password}")
    print("    (shown once; it is not stored anywhere in clear text)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-serve", action="store_true", help="set up, then exit")
    args = parser.parse_args(argv)

    env = demo_environment()
    step(f"database: SQLite in {DEMO_DIR}")
    step("applying migrations")
    manage(env, "migrate", "--noinput", stdout=subprocess.DEVNULL)
    ensure_admin(env)
    if args.no_serve:
        return 0
    step(f"serving the dashboard on http://127.0.0.1:{args.port}/ (Ctrl-C stops)")
    try:
        manage(env, "runserver", "--noreload", f"127.0.0.1:{args.port}")
    except KeyboardInterrupt:
        step("stopped")
    return 0
