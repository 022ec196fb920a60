"""Fixtures of the API and metrics tests: the dashboard's small world, users and tokens."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from api.services import create_token
from tests.dashboard.conftest import PASSWORD, add_sync_runs, build_world

METRICS_TOKEN = "metrics-token-for-tests-0123456789abcdef"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db, frozen):
    world = build_world()
    add_sync_runs(world)
    return world


@pytest.fixture
def frozen():
    import time_machine

    from tests.posture.builders import NOW

    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def metrics_token(settings):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "METRICS_TOKEN": METRICS_TOKEN}
    return METRICS_TOKEN


@pytest.fixture
def viewer(django_user_model):
    return django_user_model.objects.create_user(
        "viewer", email="viewer@example.com", password=PASSWORD
    )


@pytest.fixture
def viewer_token(viewer) -> str:
    return create_token(viewer, "tests")[1]
