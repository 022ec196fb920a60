"""Every page needs login; the home page counts what exists."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import CloudAccount, DBInstance
from posture.models import Finding
from tests.teams import join_team

pytestmark = pytest.mark.django_db


def _instance(account, identifier, **kw):
    now = timezone.now()
    return DBInstance.objects.create(
        account=account,
        provider=account.provider,
        region="us-east-1",
        identifier=identifier,
        resource_id=f"arn:aws:rds:us-east-1:111111111111:db:{identifier}",
        engine="mysql",
        first_seen=now,
        last_seen=now,
        **kw,
    )


def test_anonymous_users_are_sent_to_login(client):
    for url in [reverse("dashboard:home"), "/admin/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_login_page_itself_is_reachable(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Log in" in response.content


def test_home_counts_accounts_instances_and_open_findings(client, django_user_model):
    user = join_team(django_user_model.objects.create_user("viewer", password="pw-for-tests-only"))
    client.force_login(user)
    account = CloudAccount.objects.create(name="prod-aws", provider="aws")
    CloudAccount.objects.create(name="cn-aliyun", provider="aliyun")
    live = _instance(account, "orders-db")
    gone = _instance(account, "old-db", gone_at=timezone.now())
    now = timezone.now()
    for instance, resolved in [(live, None), (live, now), (gone, None)]:
        Finding.objects.create(
            instance=instance,
            finding_id="transport.not_enforced" if resolved is None else "tls.unavailable",
            severity="high",
            first_seen=now,
            last_seen=now,
            resolved_at=resolved,
        )
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts == {"accounts": 2, "instances": 1, "findings": 1}
    assert b'id="count-instances">1<' in response.content


def test_synced_data_is_read_only_in_the_admin(admin_client):
    account = CloudAccount.objects.create(name="prod-aws", provider="aws")
    instance = _instance(account, "orders-db")
    page = admin_client.get(reverse("admin:inventory_dbinstance_change", args=[instance.pk]))
    assert page.status_code == 200
    assert b'name="connect_host"' in page.content  # the dial override stays editable
    assert b'name="engine"' not in page.content
    assert admin_client.get(reverse("admin:inventory_dbinstance_add")).status_code == 403
    assert admin_client.get(reverse("admin:posture_finding_add")).status_code == 403
    assert admin_client.get(reverse("admin:inventory_cloudaccount_add")).status_code == 200


def test_every_model_is_in_the_admin(admin_client):
    from django.apps import apps
    from django.contrib import admin

    ours = [
        m
        for m in apps.get_models()
        if m._meta.app_label in {"inventory", "checker", "posture", "notifications"}
    ]
    missing = [m.__name__ for m in ours if m not in admin.site._registry]
    assert missing == []
