"""Every page and export needs a login; exports (and their links) are for staff only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inventory.models import DBInstance

pytestmark = pytest.mark.django_db

EXPORTS = [reverse("dashboard:instances-export", args=[fmt]) for fmt in ("csv", "xlsx", "json")] + [
    reverse("dashboard:findings-export", args=[fmt]) for fmt in ("csv", "xlsx", "json")
]


def _pages(instance_id: int) -> list[str]:
    return [
        reverse("dashboard:home"),
        reverse("dashboard:instances"),
        reverse("dashboard:instance", args=[instance_id]),
        reverse("dashboard:check-status", args=[instance_id]),
        reverse("dashboard:certificates"),
        reverse("dashboard:findings"),
        reverse("dashboard:finding", args=["transport.not_enforced"]),
        reverse("dashboard:runs"),
    ]


def test_anonymous_users_are_sent_to_log_in_everywhere(client, world):
    pk = DBInstance.objects.get(identifier="orders-db").pk
    for url in [*_pages(pk), *EXPORTS]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url
    response = client.post(reverse("dashboard:check-now", args=[pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_every_page_renders_for_a_viewer(viewer_client, world):
    pk = DBInstance.objects.get(identifier="orders-db").pk
    for url in _pages(pk):
        assert viewer_client.get(url).status_code == 200, url


def test_exports_are_forbidden_to_non_staff(viewer_client, world):
    for url in EXPORTS:
        assert viewer_client.get(url).status_code == 403, url


def test_non_staff_see_no_export_links_and_staff_do(client, viewer, staff, world):
    pages = [
        reverse("dashboard:instances"),
        reverse("dashboard:findings"),
        reverse("dashboard:finding", args=["transport.not_enforced"]),
        reverse("dashboard:certificates"),
    ]
    client.force_login(viewer)
    for url in pages:
        assert "/export." not in client.get(url).content.decode(), url
    client.force_login(staff)
    for url in pages:
        assert "/export." in client.get(url).content.decode(), url
    for url in EXPORTS:
        assert client.get(url).status_code == 200, url


def test_check_now_takes_only_post(viewer_client, world):
    pk = DBInstance.objects.get(identifier="orders-db").pk
    assert viewer_client.get(reverse("dashboard:check-now", args=[pk])).status_code == 405


def test_unknown_ids_are_not_found(viewer_client, world):
    assert viewer_client.get(reverse("dashboard:instance", args=[999999])).status_code == 404
    assert viewer_client.get(reverse("dashboard:finding", args=["no.such"])).status_code == 404
    assert viewer_client.get("/instances/export.pdf").status_code == 404
