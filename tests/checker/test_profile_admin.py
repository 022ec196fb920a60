"""The admin sets a checker password but never shows it again, not even masked."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from checker.credentials import decrypt_password
from checker.models import CheckerProfile

pytestmark = pytest.mark.django_db

FORM = {
    "name": "orders",
    "match": "prod-aws/orders-*",
    "position": "0",
    "username": "tlsposture",
    "enabled": "on",
}


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.test", "pw-admin-x1")
    client.force_login(user)
    return client


def test_password_is_stored_encrypted_and_never_rendered(admin_client):
    response = admin_client.post(
        reverse("admin:checker_checkerprofile_add"),
        {**FORM, "new_password": "Very-Secret-Checker-Pw"},
    )
    assert response.status_code == 302
    profile = CheckerProfile.objects.get(name="orders")
    assert decrypt_password(profile.password_encrypted) == "Very-Secret-Checker-Pw"
    page = admin_client.get(reverse("admin:checker_checkerprofile_change", args=[profile.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Very-Secret-Checker-Pw" not in html
    assert profile.password_encrypted not in html
    assert 'name="new_password"' in html and 'type="password"' in html
    field = html[html.index('name="new_password"') - 200 : html.index('name="new_password"') + 200]
    assert "value=" not in field
    listing = admin_client.get(reverse("admin:checker_checkerprofile_changelist"))
    assert "stored password" in listing.content.decode()


def test_an_empty_password_field_keeps_the_stored_one(admin_client):
    admin_client.post(reverse("admin:checker_checkerprofile_add"), {**FORM, "new_password": "p1"})
    profile = CheckerProfile.objects.get(name="orders")
    admin_client.post(
        reverse("admin:checker_checkerprofile_change", args=[profile.pk]),
        {**FORM, "match": "prod-aws/*"},
    )
    profile.refresh_from_db()
    assert profile.match == "prod-aws/*" and decrypt_password(profile.password_encrypted) == "p1"


def test_a_stored_password_and_a_reference_exclude_each_other(admin_client):
    response = admin_client.post(
        reverse("admin:checker_checkerprofile_add"),
        {**FORM, "new_password": "p1", "password_env": "CHECKER_PW"},
    )
    assert response.status_code == 200
    assert "a stored password and password_env exclude each other" in response.content.decode()
    assert not CheckerProfile.objects.exists()
