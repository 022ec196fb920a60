"""The production configuration: `check --deploy` is clean with the example environment, and
the web service's own command line (gunicorn + whitenoise) serves pages and hashed static
files on loopback."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.deploy.test_compose import SERVICES, _example_env

ROOT = Path(__file__).resolve().parents[2]
HOST = "tlsposture.example.com"


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "LANG", "LC_ALL", "HOME"}}
    env = {**keep, **_example_env()}
    env.update(
        DJANGO_SETTINGS_MODULE="tlsposture.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        POSTGRES_PASSWORD=secrets.token_hex(16),
        # No PostgreSQL behind these checks: an empty SQLite file stands in for it.
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        TLSPOSTURE_DATA_DIR=str(tmp_path),
        STATIC_ROOT=str(tmp_path / "static"),
        **extra,
    )
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_check_deploy_is_clean_with_the_example_environment(tmp_path):
    done = _manage(_production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "System check identified no issues (0 silenced)."


@pytest.fixture
def gunicorn(tmp_path):
    """The web service's command, with production settings, on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = _production_env(tmp_path, GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1")
    collected = _manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    assert collected.returncode == 0, collected.stderr
    command = [sys.executable, "-m", *SERVICES["web"]["command"]]
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _get(port: int, path: str, *, behind_tls_proxy: bool = True):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": HOST}
    if behind_tls_proxy:
        headers["X-Forwarded-Proto"] = "https"
    try:
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read().decode(errors="replace")
    finally:
        connection.close()


def test_gunicorn_serves_the_login_page_and_hashed_static_files(gunicorn):
    status, headers, page = _get(gunicorn, "/login/")
    assert status == 200, page
    assert "Strict-Transport-Security" in headers and 'name="password"' in page
    assert "script-src 'self'" in headers["Content-Security-Policy"]

    # A plain-HTTP request that did not come through the TLS proxy is sent to HTTPS.
    status, headers, _ = _get(gunicorn, "/login/", behind_tls_proxy=False)
    assert (status, headers["Location"]) == (301, f"https://{HOST}/login/")

    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, "templates must link the hashed (collectstatic) name"
    status, headers, css = _get(gunicorn, stylesheet.group(1))
    assert status == 200 and css.strip()
    # whitenoise marks content-hashed files as cacheable for good.
    assert "immutable" in headers["Cache-Control"]


def test_check_deploy_is_clean_with_single_sign_on_only(tmp_path):
    env = _production_env(
        tmp_path,
        OIDC_ISSUER="https://sso.example.com/realms/acme",
        OIDC_CLIENT_ID="tlsposture",
        OIDC_CLIENT_SECRET_ENV="TLSPOSTURE_CRED_OIDC_SECRET",
        OIDC_GROUPS_CLAIM="groups",
        TLSPOSTURE_PASSWORD_LOGIN="off",
    )
    done = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "System check identified no issues (0 silenced)."
    env["OIDC_CLIENT_SECRET_ENV"] = "SECRET_KEY"
    refused = _manage(env, "check", "--deploy")
    assert refused.returncode != 0
    assert "tlsposture.E104" in refused.stderr and "SECRET_KEY is one of" in refused.stderr
