"""Real Celery workers against real brokers and a real PostgreSQL database.

Needs PostgreSQL (DATABASE_URL's server, else 127.0.0.1:5432), Redis on 127.0.0.1:6379 and
RabbitMQ on 127.0.0.1:5672; a test whose service is not answering is skipped and names it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command

from common.queues import check_now_queues
from fleet import postgres
from fleet.celery_worker import CeleryWorker
from fleet.moto_server import reset
from tests.celery import brokers, shared_db
from tests.subprocess_env import django_env


@pytest.fixture(scope="session")
def worker_database(django_db_blocker):
    """A migrated PostgreSQL database for this session; the workers' DATABASE_URL."""
    server = postgres.server_url(os.environ.get("DATABASE_URL", ""))
    if not postgres.answers(server):
        pytest.skip("PostgreSQL is not answering at 127.0.0.1:5432 (the Celery tests need it)")
    url = postgres.create_database(server, prefix="tlsp_celery")
    try:
        with django_db_blocker.unblock(), shared_db.default_connection_to(url):
            call_command("migrate", verbosity=0)
        yield url
    finally:
        postgres.drop_database(url)


@pytest.fixture
def shared_database(worker_database, django_db_blocker):
    """This test's ORM talks to the workers' database; emptied afterwards."""
    with django_db_blocker.unblock(), shared_db.default_connection_to(worker_database):
        try:
            yield worker_database
        finally:
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request, settings, shared_database):
    """Each broker in turn, with this process's app and settings pointed at it."""
    make = {"redis": brokers.redis_broker, "rabbitmq": brokers.rabbitmq_broker}[request.param]
    found = make()
    if found is None:
        pytest.skip(f"{request.param} is not answering on 127.0.0.1 (a Celery broker)")
    settings.CELERY_BROKER_URL = found.url
    with brokers.project_app_on(found):
        yield found


@pytest.fixture
def redis_broker(settings, shared_database):
    found = brokers.redis_broker()
    if found is None:
        pytest.skip("Redis is not answering at 127.0.0.1:6379 (a Celery broker)")
    settings.CELERY_BROKER_URL = found.url
    with brokers.project_app_on(found):
        yield found


@pytest.fixture
def aws(moto_url):
    """An empty moto world for this test."""
    reset(moto_url)
    return moto_url


@pytest.fixture
def zone() -> Callable[[str], str]:
    """Unique zone names, so parallel runs never share a queue."""
    token = secrets.token_hex(3)
    return lambda label: f"{label}-{token}"


@pytest.fixture
def workers(shared_database, tmp_path):
    """start(broker, name, queues) → a ready worker; all are stopped afterwards."""
    started: list[CeleryWorker] = []
    queues: dict[str, brokers.Broker] = {}

    def start(
        broker, name: str, queue_names: list[str], *, transport=None, env=None
    ) -> CeleryWorker:
        worker_env = _worker_env(shared_database, tmp_path, broker, transport or {}, env or {})
        worker = CeleryWorker(name, queue_names, worker_env, tmp_path)
        started.append(worker)
        # A zone's worker also declares the zone's check-now queue (tlsposture/celery.py).
        queues.update(dict.fromkeys(queue_names + check_now_queues(queue_names), broker))
        return worker.start()

    yield start
    for worker in started:
        worker.stop()
    for queue, broker in queues.items():
        broker.delete_queues([queue])


def _worker_env(database_url: str, tmp_path: Path, broker, transport, extra) -> dict[str, str]:
    return django_env(database_url, tmp_path, **broker.env(**transport), **extra)
