"""API tokens on their page and in the admin: made, shown once, listed by prefix, revoked."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from api.models import ApiToken
from api.services import create_token
from api.tokens import token_hash

pytestmark = pytest.mark.django_db


def _shown_token(html: str) -> str:
    return re.search(r'id="new-token">(tlsp_[A-Za-z0-9_-]+)<', html).group(1)


def test_create_use_and_revoke_on_the_page(client, viewer, django_user_model):
    client.force_login(viewer)
    page = client.get(reverse("api:tokens"))
    assert page.status_code == 200 and "You have no API token." in page.content.decode()
    created = client.post(reverse("api:tokens"), {"name": "CI gate"})
    assert created["Cache-Control"].startswith("max-age=0")
    token = _shown_token(created.content.decode())
    row = ApiToken.objects.get(user=viewer)
    assert row.name == "CI gate" and row.key_hash == token_hash(token)
    # The token works without the session, and the list never shows it again.
    anonymous = client.__class__()
    response = anonymous.get("/api/v1/endpoints", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    listing = client.get(reverse("api:tokens")).content.decode()
    assert token not in listing and f"{row.prefix}…" in listing
    row.refresh_from_db()
    assert row.last_used_at is not None
    # Someone else cannot revoke it (404), its owner can.
    other = django_user_model.objects.create_user("other", password="pw-other-0123")
    client.force_login(other)
    assert client.post(reverse("api:token-revoke", args=[row.pk])).status_code == 404
    client.force_login(viewer)
    client.post(reverse("api:token-revoke", args=[row.pk]))
    assert not ApiToken.objects.exists()
    assert (
        anonymous.get("/api/v1/endpoints", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    )


def test_the_page_needs_a_login(client):
    response = client.get(reverse("api:tokens"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_admin_creates_once_and_revokes(client, viewer, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-0123")
    client.force_login(root)
    response = client.post(
        reverse("admin:api_apitoken_add"), {"user": viewer.pk, "name": "reporting"}
    )
    assert response.status_code == 200
    token = _shown_token(response.content.decode())
    row = ApiToken.objects.get()
    assert row.user == viewer and row.key_hash == token_hash(token)
    change = client.get(reverse("admin:api_apitoken_change", args=[row.pk])).content.decode()
    assert token not in change and row.key_hash not in change
    client.post(reverse("admin:api_apitoken_delete", args=[row.pk]), {"post": "yes"})
    assert not ApiToken.objects.exists()


def test_staff_cannot_mint_tokens_for_others(client, viewer, django_user_model):
    staff = django_user_model.objects.create_user("staff", password="pw-staff-0123", is_staff=True)
    staff.user_permissions.add(*_token_permissions())
    client.force_login(staff)
    assert client.get(reverse("admin:api_apitoken_add")).status_code == 403
    row, _ = create_token(viewer, "x")
    assert client.get(reverse("admin:api_apitoken_changelist")).status_code == 200
    client.post(reverse("admin:api_apitoken_delete", args=[row.pk]), {"post": "yes"})
    assert not ApiToken.objects.exists()  # revoking is allowed with the permission


def _token_permissions():
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="api")
