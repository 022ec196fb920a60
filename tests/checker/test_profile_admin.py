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
        {**FORM, "new_password": "p1", "password_env": "TLSPOSTURE_CRED_CHECKER_PW"},
    )
    assert response.status_code == 200
    assert "a stored password and password_env exclude each other" in response.content.decode()
    assert not CheckerProfile.objects.exists()


# -- exploit 1: a staff user with change permission aims the canary at a process secret ----


@pytest.fixture
def staff_client(client):
    """Staff with every permission on checker profiles and endpoints, but no superuser."""
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("ops", password="pw-ops-x1", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["checker", "inventory"],
            codename__regex=r"^(add|change|view)_(checkerprofile|dbinstance|cloudaccount)$",
        )
    )
    client.force_login(user)
    return client


SECRET_ROUTING = {
    "password_env": "TLSPOSTURE_CRED_OTHER",
    "secrets_manager_arn": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:x",
    "iam_auth": "on",
    "ca_bundle": "/tmp/attacker.pem",
    "connect_host": "203.0.113.9",
    "connect_port": "3306",
    "canary_username": "tlsp_canary",
    "canary_password_env": "TLSPOSTURE_CRED_CANARY",
    "new_password": "set-by-staff",
}


def test_staff_see_where_secrets_go_but_cannot_change_it(staff_client):
    profile = CheckerProfile.objects.create(
        name="orders",
        match="prod-aws/orders-*",
        username="tlsposture",
        password_env="TLSPOSTURE_CRED_PROD",
        connect_host="127.0.0.1",
        connect_port=3311,
    )
    url = reverse("admin:checker_checkerprofile_change", args=[profile.pk])
    page = staff_client.get(url).content.decode()
    assert "TLSPOSTURE_CRED_PROD" in page and "127.0.0.1" in page  # shown, read-only
    for field in SECRET_ROUTING:
        assert f'name="{field}"' not in page
    assert 'name="match"' in page  # the rest stays theirs
    response = staff_client.post(
        url, {**FORM, "match": "prod-aws/*", "position": "2", **SECRET_ROUTING}
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.match, profile.position) == ("prod-aws/*", 2)
    assert profile.password_env == "TLSPOSTURE_CRED_PROD"
    assert (profile.connect_host, profile.connect_port) == ("127.0.0.1", 3311)
    assert profile.secrets_manager_arn == "" and profile.iam_auth is False
    assert profile.ca_bundle == "" and profile.password_encrypted == ""
    assert (profile.canary_username, profile.canary_password_env) == ("", "")


def test_staff_cannot_add_a_profile_that_routes_a_secret(staff_client):
    response = staff_client.post(
        reverse("admin:checker_checkerprofile_add"), {**FORM, **SECRET_ROUTING}
    )
    assert response.status_code == 302
    profile = CheckerProfile.objects.get(name="orders")
    assert (profile.connect_host, profile.canary_password_env, profile.password_env) == ("", "", "")
    assert profile.password_encrypted == ""


def test_staff_cannot_redirect_an_instance(staff_client):
    from tests.dashboard.conftest import build_world

    build_world()
    from inventory.models import DBInstance

    instance = DBInstance.objects.first()
    url = reverse("admin:inventory_dbinstance_change", args=[instance.pk])
    assert 'name="connect_host"' not in staff_client.get(url).content.decode()
    staff_client.post(url, {"connect_host": "203.0.113.9", "connect_port": "3306"})
    instance.refresh_from_db()
    assert (instance.connect_host, instance.connect_port) == ("", None)


def test_superusers_still_set_them(admin_client):
    response = admin_client.post(
        reverse("admin:checker_checkerprofile_add"),
        {
            **FORM,
            "password_env": "TLSPOSTURE_CRED_PROD",
            "connect_host": "127.0.0.1",
            "connect_port": "3311",
            "canary_username": "tlsp_canary",
            "canary_password_env": "TLSPOSTURE_CRED_CANARY",
        },
    )
    assert response.status_code == 302
    profile = CheckerProfile.objects.get(name="orders")
    assert (profile.connect_host, profile.canary_password_env) == (
        "127.0.0.1",
        "TLSPOSTURE_CRED_CANARY",
    )


@pytest.mark.parametrize("field", ["password_env", "canary_password_env"])
@pytest.mark.parametrize("name", ["SECRET_KEY", "TLSPOSTURE_SECRET_KEYS", "DATABASE_URL"])
def test_even_a_superuser_cannot_name_a_process_secret(admin_client, field, name):
    data = {**FORM, field: name}
    if field == "canary_password_env":
        data["canary_username"] = "tlsp_canary"
    response = admin_client.post(reverse("admin:checker_checkerprofile_add"), data)
    assert response.status_code == 200
    assert f"{name} is one of tlsposture&#x27;s own settings variables" in (
        response.content.decode()
    )
    assert not CheckerProfile.objects.exists()
