"""Upgrading keeps what existing users saw: before teams every user saw every account."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("inventory", "0005_teamgrant")]
AFTER = [("inventory", "0006_everyone_sees_what_they_saw")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_non_staff_users_join_a_team_granted_everything():
    apps = _migrate(BEFORE)
    User = apps.get_model("auth", "User")
    User.objects.create(username="viewer", is_active=True)
    User.objects.create(username="auditor", is_staff=True)
    User.objects.create(username="left", is_active=False)
    apps = _migrate(AFTER)
    Group = apps.get_model("auth", "Group")
    everyone = Group.objects.get(name="everyone")
    assert list(everyone.user_set.values_list("username", flat=True)) == ["viewer"]
    assert list(everyone.grants.values_list("pattern", flat=True)) == ["*"]


def test_a_fresh_installation_gets_no_such_team():
    _migrate(BEFORE)
    apps = _migrate(AFTER)
    assert not apps.get_model("auth", "Group").objects.exists()
