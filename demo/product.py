"""tlsposture itself, run the way a user runs it: `manage.py` commands on SQLite in the demo
directory, with the demo's credentials only in their environment."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMIN_USERNAME = "admin"
# Set by the user for real clouds; they must not leak into the demo's commands.
_FOREIGN = (
    "DATABASE_URL",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_RDS",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


class CommandFailed(RuntimeError):
    """A manage.py command failed; the message carries its output."""


def secret_key(demo_dir: Path) -> str:
    """The demo's Django SECRET_KEY, made once and kept (sessions survive restarts)."""
    key_file = demo_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def environment(demo_dir: Path, credentials: dict[str, str]) -> dict[str, str]:
    """The environment of every command the demo runs. `credentials`: variable → value,
    generated for this run (cloud keys, checker passwords)."""
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env.update(
        DJANGO_SETTINGS_MODULE="tlsposture.settings",
        DEBUG="1",
        SECRET_KEY=secret_key(demo_dir),
        TLSPOSTURE_DATA_DIR=str(demo_dir),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # No shared AWS config or credentials file may stand in for the demo's own keys.
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        PYTHONUNBUFFERED="1",
    )
    env.update(credentials)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    """Run `manage.py args…` to its end; its output, or CommandFailed with it."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        raise CommandFailed(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{output}")
    return done.stdout


def admin_exists(env: dict[str, str]) -> bool:
    script = (
        "from django.contrib.auth import get_user_model;"
        f"print(get_user_model().objects.filter(username={ADMIN_USERNAME!r}).exists())"
    )
    return manage(env, "shell", "--no-imports", "-c", script).strip() == "True"


def create_admin(env: dict[str, str]) -> str:
    """Create the admin user; its password, which nothing stores in clear text."""
    password = secrets.token_urlsafe(12)
    manage(
        {**env, "DJANGO_SUPERUSER_PASSWORD": password},
        "createsuperuser",
        "--noinput",
        "--username",
        ADMIN_USERNAME,
        "--email",
        "admin@localhost",
    )
    return password


def serve(env: dict[str, str], port: int) -> subprocess.Popen:
    """The dashboard on 127.0.0.1:port (Django's runserver), until stop_process()."""
    command = [sys.executable, str(ROOT / "manage.py"), "runserver", "--noreload"]
    command.append(f"127.0.0.1:{port}")
    if shutil.which("setpriv"):
        # It dies with the demo even if the demo itself is killed.
        command = ["setpriv", "--pdeathsig", "TERM", "--", *command]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL)


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
