"""Fixtures of the API and metrics tests: the dashboard's small world, users and tokens."""

from __future__ import annotations

import pytest

from api.services import create_token
from tests.dashboard.conftest import (  # noqa: F401 - fixtures shared with the dashboard tests
    PASSWORD,
    add_sync_runs,
    build_world,
    empty_cache,
    frozen,
)
from tests.teams import join_team

METRICS_TOKEN = "metrics-token-for-tests-0123456789abcdef"


@pytest.fixture
def world(db, frozen):  # noqa: F811 - the imported fixture
    world = build_world()
    add_sync_runs(world)
    return world


@pytest.fixture
def metrics_token(settings):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "METRICS_TOKEN": METRICS_TOKEN}
    return METRICS_TOKEN


@pytest.fixture
def viewer(django_user_model):
    # In a team granted every account: sees what staff see, without being staff.
    user = django_user_model.objects.create_user(
        "viewer", email="viewer@example.com", password=PASSWORD
    )
    return join_team(user)


@pytest.fixture
def viewer_token(viewer) -> str:
    return create_token(viewer, "tests")[1]
