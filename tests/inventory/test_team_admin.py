"""The admin shows and edits team grants, for superusers only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from inventory.models import CloudAccount, TeamGrant

pytestmark = pytest.mark.django_db

PASSWORD = "pw-admin-teams-x1"


@pytest.fixture
def superuser_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.test", PASSWORD)
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(client):
    """Staff with every permission there is: still not the one who decides who sees what."""
    user = get_user_model().objects.create_user("ops", password=PASSWORD, is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    client.force_login(user)
    return client


def _inline_form(prefix: str = "grants") -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-pattern": "payments-*",
    }


def test_a_superuser_creates_a_team_with_a_glob_grant(superuser_client):
    CloudAccount.objects.create(name="payments-prod", provider="aws")
    CloudAccount.objects.create(name="search-prod", provider="aws")
    page = superuser_client.get(reverse("admin:auth_group_add")).content.decode()
    assert "grants-TOTAL_FORMS" in page
    response = superuser_client.post(
        reverse("admin:auth_group_add"), {"name": "payments", **_inline_form()}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    grant = TeamGrant.objects.get()
    assert (grant.group.name, grant.pattern) == ("payments", "payments-*")
    listing = superuser_client.get(reverse("admin:inventory_teamgrant_changelist")).content
    assert b"payments-prod" in listing and b"search-prod" not in listing
    groups = superuser_client.get(reverse("admin:auth_group_changelist")).content
    assert b"payments-*" in groups
    account = CloudAccount.objects.get(name="payments-prod")
    page = superuser_client.get(reverse("admin:inventory_cloudaccount_change", args=[account.pk]))
    assert "Teams that see it" in page.content.decode()
    assert "payments" in page.content.decode()


def test_a_pattern_with_surrounding_spaces_is_refused(superuser_client):
    form = {"name": "payments", **_inline_form(), "grants-0-pattern": " payments-* "}
    # Django strips form input; an empty pattern must not become "every account" either.
    form_empty = {"name": "search", **_inline_form(), "grants-0-pattern": "   "}
    superuser_client.post(reverse("admin:auth_group_add"), form)
    superuser_client.post(reverse("admin:auth_group_add"), form_empty)
    assert list(TeamGrant.objects.values_list("pattern", flat=True)) == ["payments-*"]


def test_staff_cannot_see_or_change_team_grants(staff_client):
    team = Group.objects.create(name="payments")
    TeamGrant.objects.create(group=team, pattern="payments-*")
    assert staff_client.get(reverse("admin:inventory_teamgrant_changelist")).status_code == 403
    assert staff_client.get(reverse("admin:inventory_teamgrant_add")).status_code == 403
    index = staff_client.get(reverse("admin:index")).content.decode()
    assert "Team grants" not in index
    page = staff_client.get(reverse("admin:auth_group_change", args=[team.pk])).content.decode()
    assert "grants-TOTAL_FORMS" not in page
    # Saving the group through the admin leaves its grants as they were.
    staff_client.post(reverse("admin:auth_group_change", args=[team.pk]), {"name": "payments"})
    assert list(TeamGrant.objects.values_list("pattern", flat=True)) == ["payments-*"]
