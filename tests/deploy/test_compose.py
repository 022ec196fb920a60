"""docker-compose.yml, checked without a Docker engine: its services, one worker per zone
on the queue the code derives, beat, and an environment that names no secret itself."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from common.queues import DEFAULT_ZONE, ZONE_QUEUE_PREFIX, zone_queue
from tlsposture.settings import CELERY_TASK_DEFAULT_QUEUE

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
EXAMPLE_ENV = ROOT / "deploy" / "tlsposture.env.example"
APP_SERVICES = {"migrate", "web", "beat"} | {n for n in SERVICES if n.startswith("worker-")}


def _example_env() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in EXAMPLE_ENV.read_text().splitlines())
    return {k: v for k, v in (p for p in pairs if len(p) == 2) if not k.startswith("#")}


def _option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_the_services():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "beat"} | (
        APP_SERVICES - {"migrate", "web", "beat"}
    )
    assert SERVICES["postgres"]["image"].startswith("postgres:")
    assert SERVICES["redis"]["image"].startswith("redis:")
    assert SERVICES["web"]["command"] == [
        "gunicorn", "-c", "deploy/gunicorn.conf.py", "tlsposture.wsgi"
    ]  # fmt: skip
    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    beat = SERVICES["beat"]["command"]
    assert beat[:4] == ["celery", "-A", "tlsposture", "beat"]
    # beat remembers when each entry last ran, on a volume, so a restart does not re-run all.
    state = _option(beat, "--schedule")
    assert any(state.startswith(v.split(":")[1]) for v in SERVICES["beat"]["volumes"])


def test_one_worker_per_zone_on_the_queue_the_code_derives():
    queues_by_worker = {}
    for name, service in SERVICES.items():
        if name.startswith("worker-"):
            command = service["command"]
            assert command[:4] == ["celery", "-A", "tlsposture", "worker"]
            queues_by_worker[name] = _option(command, "-Q").split(",")
    zone_queues = [q for qs in queues_by_worker.values() for q in qs if q != "tlsposture"]
    assert len(zone_queues) == len(set(zone_queues)) == len(queues_by_worker) >= 2
    for name, queues in queues_by_worker.items():
        zone = name.removeprefix("worker-")
        assert zone_queue(zone) in queues, f"{name} must consume {zone_queue(zone)}"
        assert all(q.startswith(ZONE_QUEUE_PREFIX) or q == "tlsposture" for q in queues)
        node = _option(SERVICES[name]["command"], "-n")
        assert node == f"{zone}@%h"
    # Beat's dispatchers and the digests go to the default queue; someone must take it.
    default_worker = queues_by_worker[f"worker-{DEFAULT_ZONE}"]
    assert CELERY_TASK_DEFAULT_QUEUE in default_worker


def test_every_app_service_shares_the_image_settings_and_waits_for_the_database():
    for name in APP_SERVICES:
        service = SERVICES[name]
        assert service["image"] == "tlsposture:latest" and service["build"] == "."
        assert service["env_file"] == "deploy/tlsposture.env"
        env = service["environment"]
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["DATABASE_URL"].startswith("postgres://tlsposture:${POSTGRES_PASSWORD:?")
        assert env["DATABASE_URL"].endswith("@postgres:5432/tlsposture")
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}
        if name != "migrate":
            assert service["depends_on"]["migrate"] == {
                "condition": "service_completed_successfully"
            }
    assert SERVICES["web"]["ports"] == ["127.0.0.1:8000:8000"]


def test_secrets_come_only_from_the_env_file():
    text = (ROOT / "docker-compose.yml").read_text()
    # ${NAME:?message}: compose refuses to start without the value instead of a default.
    assert set(re.findall(r"\$\{(\w+)", text)) == {"POSTGRES_PASSWORD"}
    required = re.compile(r"^\$\{POSTGRES_PASSWORD:\?[^}]+\}$")
    for service in SERVICES.values():
        for name, value in (service.get("environment") or {}).items():
            if re.search("PASSWORD|SECRET|KEY", name):
                assert required.match(value), f"{name} must come from the env file"
            elif "://" in value and "@" in value:
                credentials = value.split("://", 1)[1].split("@", 1)[0]
                assert required.match(credentials.split(":", 1)[1]), f"{name} holds a password"
    example = _example_env()
    secret = ("SECRET_KEY", "POSTGRES_PASSWORD", "EMAIL_HOST_PASSWORD", "TLSPOSTURE_SECRET_KEYS")
    for name in secret:
        assert example[name] == "", f"{name} must be left empty in the example"
    assert {"ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SECURE_PROXY_SSL_HEADER"} <= set(example)
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "deploy/*.env" in ignored, "the filled-in env file must never enter an image"
