"""Teams for tests: a non-staff user sees only what their teams are granted (README "Access")."""

from __future__ import annotations

from django.contrib.auth.models import Group

from inventory.models import TeamGrant


def join_team(user, team: str = "everyone", patterns: tuple[str, ...] = ("*",)):
    """Put `user` in `team`, granted `patterns` (all accounts by default); returns the user."""
    group, _ = Group.objects.get_or_create(name=team)
    for pattern in patterns:
        TeamGrant.objects.get_or_create(group=group, pattern=pattern)
    user.groups.add(group)
    return user
