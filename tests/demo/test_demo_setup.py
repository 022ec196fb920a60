"""`python -m demo`: the whole world once headless (every scenario's grade), then a second
run that reuses it, serves the dashboard and stops everything on Ctrl-C.

Real parts throughout: the moto server, the local Alibaba API and the MariaDB servers the
demo starts, and tlsposture's own commands (import, sync, check, report) as it runs them.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from demo.world import DATABASES, GRADES_SHOWN, NO_NETWORK_PATH, SERVERS, expected_grades
from fleet.mariadb import free_port

pytestmark = pytest.mark.long(seconds=140)

ROOT = Path(__file__).resolve().parents[2]
# Servers whose certificate must fail VERIFY_IDENTITY (or that offer no TLS): the checker
# never logs in there.
NOT_VERIFIED = {"wrong-name", "self-signed", "weak-key", "untrusted", "ca-2019", "aliyun-plaintext"}
PASSWORD = re.compile(r"created admin user 'admin' with password: (\S+)")


def _env(demo_dir: Path) -> dict[str, str]:
    env = {**os.environ, "TLSPOSTURE_DEMO_DIR": str(demo_dir)}
    env.pop("DATABASE_URL", None)
    return env


def _left_running(demo_dir: Path) -> list[str]:
    """Processes that still belong to the demo: its servers name the directory on their
    command line, tlsposture's commands carry it in their environment."""
    marks = (str(demo_dir).encode(), f"TLSPOSTURE_DATA_DIR={demo_dir}".encode())
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if (proc / "stat").read_text().split()[2] == "Z":
                continue
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if marks[0] in cmdline or marks[1] in environ:
            command = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{proc.name}: {command}")
    return found


def _nothing_left(demo_dir: Path, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := _left_running(demo_dir)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def first_run(demo_dir):
    report = demo_dir.parent / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "demo", "--no-serve", "--free-ports", "--report-json", str(report)],
        cwd=ROOT,
        env=_env(demo_dir),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads(report.read_text())["instances"]
    return SimpleNamespace(
        output=done.stdout, rows={(r["account"], r["identifier"]): r for r in rows}
    )


def test_every_scenario_gets_its_grade(first_run):
    grades = {key: row["grade"] for key, row in first_run.rows.items()}
    assert grades == expected_grades()


def test_each_grade_comes_from_the_findings_the_scenario_is_about(first_run):
    for db in DATABASES:
        for endpoint in db.endpoints:
            row = first_run.rows[(db.account.name, endpoint)]
            open_ids = {finding["id"] for finding in row["findings"]}
            assert set(db.because) <= open_ids, (endpoint, sorted(open_ids))


def test_cert_untrusted_only_where_the_issuer_is_not_in_the_bundle(first_run):
    """Root causes, not echoes: an expired, weak or self-signed certificate is its own
    finding; cert.untrusted is the server whose CA the bundle lacks."""
    untrusted = set()
    for db in DATABASES:
        for endpoint in db.endpoints:
            ids = {f["id"] for f in first_run.rows[(db.account.name, endpoint)]["findings"]}
            if "cert.untrusted" in ids:
                untrusted.add(db.server)
    assert untrusted == {"untrusted"}


def test_the_clients_show_who_would_break_and_who_is_ready(first_run):
    wordpress = first_run.rows[("demo-aws-prod", "wordpress-db")]
    assert wordpress["enforce_tls_readiness"] == "not-ready"
    # wordpress-db is a MySQL 8 persona: its performance_schema lists a plaintext client.
    assert wordpress["enforce_tls_verdict"].startswith("would break: app@10.0.3.7 ")
    reports = first_run.rows[("demo-aws-prod", "reports-57")]
    assert reports["enforce_tls_readiness"] == "done"
    assert reports["drop_legacy_tls_verdict"].startswith("would break: app_ssl@127.0.0.4 ")
    shopweb = first_run.rows[("demo-aliyun", "rm-bp1shopweb")]
    assert shopweb["enforce_tls_readiness"] == "ready"
    assert shopweb["enforce_tls_verdict"].startswith(
        "safe to enforce TLS: no plaintext client in 1 check over "
    )


def test_every_grade_the_catalogue_can_give_appears(first_run):
    assert {row["grade"] for row in first_run.rows.values()} == set(GRADES_SHOWN)


def test_verify_identity_passes_or_fails_per_scenario_on_the_cloud_names(first_run):
    for db in DATABASES:
        for endpoint in db.endpoints:
            row = first_run.rows[(db.account.name, endpoint)]
            wanted = "tls-failed" if db.server in NOT_VERIFIED else "ok"
            if db.server == NO_NETWORK_PATH:
                wanted = "unreachable"  # its profile dials the port the demo holds closed
            assert row["check_status"] == wanted, (endpoint, row["check_status"])
            assert row["endpoint"].split(":")[0].endswith((".amazonaws.com", ".aliyuncs.com"))
    # The proxy's certificate comes from the "public" CA, which only its proxy bundle holds.
    proxy = first_run.rows[("demo-aws-prod", "orders-proxy")]
    assert "cert.untrusted" not in {finding["id"] for finding in proxy["findings"]}


def test_the_first_run_prints_its_steps_and_the_admin_password_once(first_run):
    for number in range(1, 11):
        assert f"[{number}/10] " in first_run.output
    [password] = PASSWORD.findall(first_run.output)
    assert first_run.output.count(password) == 1
    assert "grades — A+: " in first_run.output


def test_the_headless_run_leaves_nothing_running(first_run, demo_dir):
    assert _nothing_left(demo_dir) == []


def _lines(process: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def pump():
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _read_until(lines: queue.Queue, marker: str, seen: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if marker in line:
            return
    pytest.fail(f"no {marker!r} in the demo's output:\n{''.join(seen)}")


def _get(opener, url: str, data: dict | None = None, tries: int = 50):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    for attempt in range(tries):
        try:
            request = urllib.request.Request(url, data=body)  # noqa: S310 - loopback http
            return opener.open(request, timeout=10)
        except urllib.error.URLError:
            if attempt == tries - 1:
                raise
            time.sleep(0.2)  # runserver is still starting
    return None


def test_a_second_run_reuses_everything_serves_and_stops_on_ctrl_c(first_run, demo_dir):
    [password] = PASSWORD.findall(first_run.output)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "demo", "--free-ports", "--port", str(port)],
        cwd=ROOT,
        env=_env(demo_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    try:
        lines = _lines(process)
        _read_until(lines, "Ctrl-C stops everything", seen, timeout=180)
        output = "".join(seen)
        with_tls = sum(1 for s in SERVERS if s.tls)
        assert f"({with_tls} reused, 0 minted)" in output
        assert "exists (its password was printed when it was created" in output
        assert password not in output

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        login_page = _get(opener, f"{base}/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
        answer = _get(
            opener,
            f"{base}/login/",
            {"csrfmiddlewaretoken": token, "username": "admin", "password": password},
        )
        assert answer.status == 200 and urllib.parse.urlsplit(answer.url).path == "/"

        process.send_signal(signal.SIGINT)
        _read_until(lines, "stopped: every server and process", seen, timeout=60)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert _nothing_left(demo_dir) == []
