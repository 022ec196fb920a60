"""A real Prometheus (Debian's binary) on a free loopback port, its data in a temporary
directory, scraping what the test tells it to."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import yaml

from fleet.mariadb import free_port


def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    if path is None:
        raise RuntimeError("prometheus is missing: `make test` installs Debian's prometheus")
    return path


@contextmanager
def prometheus(workdir: Path, *, target: str, token: str, rule_files: list[Path]):
    """Yields the base URL of a Prometheus scraping http://`target`/metrics every second
    with `Authorization: Bearer token`, evaluating `rule_files`."""
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [
            {
                "job_name": "tlsposture",
                "metrics_path": "/metrics",
                "authorization": {"type": "Bearer", "credentials": token},
                "static_configs": [{"targets": [target]}],
            }
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (workdir / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            prometheus_binary(),
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(url), 30, what="Prometheus to start", log=workdir)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/-/ready", timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except OSError:
        return False


def api(url: str, path: str, **params) -> dict:
    query = urllib.parse.urlencode(params)
    with urllib.request.urlopen(f"{url}/api/v1/{path}?{query}", timeout=10) as response:  # noqa: S310
        return json.load(response)


def wait_until(condition, seconds: float, *, what: str, log: Path | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.25)
    tail = ""
    if log is not None and (log / "prometheus.log").exists():
        tail = (log / "prometheus.log").read_text(errors="replace")[-2000:]
    raise AssertionError(f"timed out waiting for {what}\n{tail}")
