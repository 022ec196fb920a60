"""No secret ever reaches a page or an export: not checker passwords, not cloud keys."""

from __future__ import annotations

import pytest
from django.urls import reverse

from checker.models import CheckerProfile
from inventory.models import DBInstance
from tests.dashboard.conftest import body

pytestmark = pytest.mark.django_db

SECRETS = {
    "TLSPOSTURE_CRED_DASHBOARD_AK": "LTAIdashboardKeyId0001",
    "TLSPOSTURE_CRED_DASHBOARD_SK": "dashboard-secret-access-key-0002",
    "TLSPOSTURE_CRED_DASHBOARD_CHECKER_PW": "hunter2-checker-password-0003",
}


def test_secret_values_and_their_variable_names_never_render(staff_client, world, monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    CheckerProfile.objects.create(
        name="prod",
        match="prod-aws/*",
        username="tlsposture",
        password_env="TLSPOSTURE_CRED_DASHBOARD_CHECKER_PW",
    )
    pk = DBInstance.objects.get(identifier="orders-db").pk
    urls = [
        reverse("dashboard:home"),
        reverse("dashboard:instances"),
        reverse("dashboard:instance", args=[pk]),
        reverse("dashboard:certificates"),
        reverse("dashboard:findings"),
        reverse("dashboard:finding", args=["transport.not_enforced"]),
        reverse("dashboard:runs"),
        *[reverse("dashboard:instances-export", args=[f]) for f in ("csv", "json")],
        *[reverse("dashboard:findings-export", args=[f]) for f in ("csv", "json")],
    ]
    for url in urls:
        text = body(staff_client.get(url))
        for name, value in SECRETS.items():
            assert value not in text, url
            assert name not in text, url
