"""Exploits 3 and 5 of issue 14: digests aimed at strangers, and unsubscribe links that
never expire. Sending goes through a real SMTP server on loopback that records every
envelope; unsubscribing goes through the real pages without a session."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from notifications.models import DigestSendLog, DigestSubscription
from notifications.tokens import address_key
from tests.notifications.conftest import subscribe
from tests.notifications.helpers import send_digests
from tests.teams import join_team

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Mine",
    "thresholds_days": "90, 30, 7",
    "cadence": "daily",
    "time_zone": "UTC",
    "active": "on",
}


@pytest.fixture
def member(django_user_model):
    user = django_user_model.objects.create_user(
        "member", email="Member@Corp.example", password="pw-for-tests-only"
    )
    return join_team(user)


def _create(client, recipients: str):
    return client.post(
        reverse("notifications:subscription-create"), {**FORM, "recipients": recipients}
    )


# -- exploit 3: any logged-in user mails any address ---------------------------------------


def test_a_member_may_address_only_themselves_and_the_allowed_domains(client, member):
    client.force_login(member)
    refused = _create(client, "member@corp.example\nvictim@elsewhere.test")
    assert refused.status_code == 200
    error = refused.context["form"].errors["recipients"][0]
    assert error == (
        "Not allowed: victim@elsewhere.test. Digests go only to your own address "
        "(Member@corp.example) or addresses in example.com."
    )
    assert not DigestSubscription.objects.exists()
    assert _create(client, "member@corp.example\nteam@EXAMPLE.com").status_code == 302
    assert DigestSubscription.objects.get().recipient_list() == [
        "member@corp.example",
        "team@EXAMPLE.com",
    ]
    page = client.get(reverse("notifications:subscription-create")).content.decode()
    assert "Digests go only to your own address (Member@corp.example)" in page


def test_without_allowed_domains_a_member_mails_only_themselves(client, member, settings):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "DIGEST_ALLOWED_DOMAINS": []}
    client.force_login(member)
    assert _create(client, "ops@example.com").status_code == 200
    assert _create(client, "member@corp.example").status_code == 302


def test_staff_address_anyone(client, django_user_model):
    staff = django_user_model.objects.create_user("lead", password="pw-x", is_staff=True)
    client.force_login(staff)
    assert _create(client, "auditor@partner.test").status_code == 302


def test_the_admin_checks_the_owners_rule(admin_client, member):
    add = reverse("admin:notifications_digestsubscription_add")
    data = {**FORM, "owner": member.pk, "recipients": "victim@elsewhere.test"}
    refused = admin_client.post(add, data)
    assert refused.status_code == 200
    assert (
        "Not allowed: victim@elsewhere.test"
        in refused.context["adminform"].form.errors["recipients"][0]
    )
    superuser = refused.wsgi_request.user
    assert admin_client.post(add, {**data, "owner": superuser.pk}).status_code == 302


def test_an_old_subscription_reaches_no_stranger(fleet, member, smtp_server, frozen_now, settings):
    """Stored before the rule: the sender refuses the stranger and mails the rest."""
    subscription = subscribe(member, recipients="victim@elsewhere.test\nmember@corp.example")
    output = send_digests()
    assert f"#{subscription.pk} Platform team 2026-11-23: sent" in output
    assert smtp_server.recipients() == ["member@corp.example"]
    log = DigestSendLog.objects.get()
    assert log.deliveries == {"victim@elsewhere.test": "refused", "member@corp.example": "sent"}
    assert "victim@elsewhere.test: refused: not an address this subscription's owner may use" in (
        log.error
    )


def test_the_subject_carries_no_free_text(fleet, member, smtp_server, frozen_now):
    subscribe(
        member,
        name="Your password expires today: https://phish.example.net/reset",
        recipients="member@corp.example",
    )
    send_digests()
    (message,) = smtp_server.messages
    assert message["Subject"].startswith("[tlsposture] Daily expiry digest for 2026-11-23: ")
    assert "phish" not in message["Subject"] and "password" not in message["Subject"]


# -- exploit 5: unsubscribe links that never expire ------------------------------------------


def _link(smtp_server, address: str) -> str:
    for message in smtp_server.messages:
        if message["To"] == address:
            return urlsplit(message["List-Unsubscribe"].strip().strip("<>")).path
    raise AssertionError(f"no digest to {address}")


def test_an_old_link_has_expired_once_its_address_was_removed_and_added_back(
    fleet, owner, smtp_server, frozen_now
):
    subscription = subscribe(owner)
    send_digests()
    ops_link, dba_link = (
        _link(smtp_server, "ops@example.com"),
        _link(smtp_server, "dba@example.com"),
    )
    anonymous = Client(enforce_csrf_checks=True)
    assert b"ops@example.com will get no further" in anonymous.post(ops_link).content
    subscription.refresh_from_db()
    assert subscription.recipient_list() == ["dba@example.com"]

    # The owner adds the address back on their page.
    owner_client = Client()
    owner_client.force_login(owner)
    edit = reverse("notifications:subscription-edit", args=[subscription.pk])
    data = {**FORM, "name": subscription.name, "recipients": "dba@example.com\nops@example.com"}
    assert owner_client.post(edit, data).status_code == 302

    for answer in (anonymous.get(ops_link), anonymous.post(ops_link)):
        assert answer.status_code == 410
        assert b"This link has expired" in answer.content
    subscription.refresh_from_db()
    assert subscription.recipient_list() == ["dba@example.com", "ops@example.com"]
    # Another recipient's change does not expire the others' links.
    assert b"dba@example.com will get no further" in anonymous.post(dba_link).content


def test_a_link_without_a_version_has_expired(fleet, owner):
    from django.core import signing

    subscription = subscribe(owner)
    legacy = signing.Signer(salt="notifications.unsubscribe").sign_object(
        {"s": subscription.pk, "a": hashlib.sha256(b"ops@example.com").hexdigest()[:24]}
    )
    path = reverse("notifications:unsubscribe", args=[legacy])
    assert Client().post(path).status_code == 410
    subscription.refresh_from_db()
    assert subscription.recipient_list() == ["ops@example.com", "dba@example.com"]


def test_every_change_of_the_recipients_moves_the_version(owner):
    subscription = subscribe(owner, recipients="a@example.com")
    assert (subscription.recipients_version, subscription.recipients_added) == (
        1,
        {"a@example.com": 1},
    )
    subscription.name = "renamed"
    subscription.recipients = "A@example.com"  # the same address
    subscription.save()
    assert subscription.recipients_version == 1
    subscription.recipients = "a@example.com\nb@example.com"
    subscription.save()
    subscription.recipients = "b@example.com"
    subscription.save(update_fields=["recipients"])
    stored = DigestSubscription.objects.get()
    assert (stored.recipients_version, stored.recipients_added) == (3, {"b@example.com": 2})


def test_the_address_key_is_an_hmac_under_the_secret_key(settings):
    key = address_key("ops@example.com")
    assert len(key) == 64 and key == address_key(" OPS@example.com ")
    assert key != hashlib.sha256(b"ops@example.com").hexdigest()
    old_secret = settings.SECRET_KEY
    settings.SECRET_KEY = "another-secret-key-for-this-test-0123456789-abcdefghijklmnop"
    assert address_key("ops@example.com") != key
    settings.SECRET_KEY_FALLBACKS = [old_secret]  # a rotated key still finds old links
    from notifications.tokens import find_recipient

    assert find_recipient(["dba@example.com", "ops@example.com"], key) == "ops@example.com"
