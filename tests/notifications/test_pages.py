"""Self-service subscription pages: login required, own subscriptions only, validated input."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inventory.models import CloudAccount
from notifications.models import DigestSubscription
from tests.notifications.conftest import subscribe

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Payments",
    "recipients": "ops@example.com\r\nOps@Example.com\r\ndba@example.com",
    "providers": ["aws"],
    "regions": "us-east-1, eu-west-1 us-east-1",
    "tags": "team=payments\r\naws:cloudformation:stack-name = orders\r\n",
    "thresholds_days": "7, 90 30 30",
    "cadence": "weekly",
    "time_zone": "Asia/Shanghai",
    "active": "on",
}


@pytest.fixture
def other(django_user_model):
    return django_user_model.objects.create_user("someone-else", password="pw-for-tests-only")


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


def test_every_page_but_unsubscribe_needs_login(client, owner):
    mine = subscribe(owner)
    for url in [
        reverse("notifications:subscriptions"),
        reverse("notifications:subscription-create"),
        reverse("notifications:subscription-edit", args=[mine.pk]),
        reverse("notifications:subscription-delete", args=[mine.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))
    assert (
        client.post(reverse("notifications:subscription-delete", args=[mine.pk])).status_code == 302
    )
    assert DigestSubscription.objects.filter(pk=mine.pk).exists()


def test_the_list_shows_only_my_subscriptions(logged_in, owner, other):
    subscribe(owner, name="Mine", regions=["eu-west-1"], tags={"team": "payments"})
    subscribe(other, name="Theirs", recipients="secret-team@example.com")
    page = logged_in.get(reverse("notifications:subscriptions"))
    assert page.status_code == 200
    assert [s.name for s in page.context["subscriptions"]] == ["Mine"]
    assert b"Theirs" not in page.content and b"secret-team" not in page.content
    assert b"eu-west-1 team=payments" in page.content
    assert b'href="/notifications/subscriptions/"' in page.content  # the nav link


def test_create_parses_and_normalises_the_text_fields(logged_in, owner):
    account = CloudAccount.objects.create(name="prod-aws", provider="aws")
    response = logged_in.post(
        reverse("notifications:subscription-create"), {**VALID, "accounts": [account.pk]}
    )
    assert response.status_code == 302
    created = DigestSubscription.objects.get()
    assert created.owner == owner
    assert created.recipient_list() == ["ops@example.com", "dba@example.com"]
    assert created.providers == ["aws"]
    assert created.regions == ["eu-west-1", "us-east-1"]
    assert created.tags == {"team": "payments", "aws:cloudformation:stack-name": "orders"}
    assert created.thresholds_days == [90, 30, 7]
    assert list(created.accounts.all()) == [account]
    assert (created.cadence, created.time_zone, created.send_empty) == (
        "weekly",
        "Asia/Shanghai",
        False,
    )


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("recipients", "ops@example.com\r\nnot-an-address", "“not-an-address” is not an e-mail"),
        ("recipients", "  ", "Add an e-mail address or a chat or webhook target."),
        ("thresholds_days", "90, 0", "“0” is not a whole number of days"),
        ("thresholds_days", "thirty", "“thirty” is not a whole number of days"),
        ("thresholds_days", "-7", "“-7” is not a whole number of days"),
        ("time_zone", "Mars/Olympus_Mons", "Select a valid choice."),
        ("tags", "team", "“team” is not key=value."),
        ("regions", "US East", "Not a region name: US, East"),
        ("providers", ["gcp"], "Select a valid choice."),
    ],
)
def test_create_refuses_what_a_digest_cannot_use(logged_in, field, value, error):
    response = logged_in.post(reverse("notifications:subscription-create"), {**VALID, field: value})
    assert response.status_code == 200
    assert error in response.context["form"].errors[field][0]
    assert not DigestSubscription.objects.exists()


def test_the_create_form_starts_from_the_configured_thresholds(logged_in, settings):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "EXPIRY_THRESHOLDS_DAYS": [60, 14]}
    page = logged_in.get(reverse("notifications:subscription-create"))
    assert b'value="60, 14"' in page.content
    assert b'<option value="Europe/Berlin">' in page.content
    assert b'<option value="UTC" selected>' in page.content


def test_edit_shows_the_stored_values_as_text_and_saves(logged_in, owner):
    mine = subscribe(
        owner, regions=["us-east-1"], tags={"team": "payments"}, thresholds_days=[30, 7]
    )
    url = reverse("notifications:subscription-edit", args=[mine.pk])
    form = logged_in.get(url).context["form"]
    assert (form["regions"].value(), form["tags"].value(), form["thresholds_days"].value()) == (
        "us-east-1",
        "team=payments",
        "30, 7",
    )
    assert logged_in.post(url, {**VALID, "name": "Renamed"}).status_code == 302
    mine.refresh_from_db()
    assert (mine.name, mine.owner) == ("Renamed", owner)


def test_someone_elses_subscription_is_not_found(logged_in, other):
    theirs = subscribe(other, name="Theirs")
    for name in ["notifications:subscription-edit", "notifications:subscription-delete"]:
        url = reverse(name, args=[theirs.pk])
        assert logged_in.get(url).status_code == 404
        assert logged_in.post(url, VALID).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


def test_delete_asks_first(logged_in, owner):
    mine = subscribe(owner)
    url = reverse("notifications:subscription-delete", args=[mine.pk])
    assert b"Delete digest \xe2\x80\x9cPlatform team\xe2\x80\x9d?" in logged_in.get(url).content
    assert DigestSubscription.objects.filter(pk=mine.pk).exists()
    assert logged_in.post(url).status_code == 302
    assert not DigestSubscription.objects.filter(pk=mine.pk).exists()


def test_staff_manage_every_subscription_in_the_admin_with_the_same_checks(admin_client, owner):
    subscribe(owner, name="Someone's digest")
    changelist = admin_client.get(reverse("admin:notifications_digestsubscription_changelist"))
    assert b"Someone&#x27;s digest" in changelist.content
    add = reverse("admin:notifications_digestsubscription_add")
    refused = admin_client.post(add, {**VALID, "owner": owner.pk, "thresholds_days": "0"})
    assert refused.status_code == 200
    assert "thresholds_days" in refused.context["adminform"].form.errors
    assert admin_client.post(add, {**VALID, "owner": owner.pk}).status_code == 302
    assert DigestSubscription.objects.get(name="Payments").thresholds_days == [90, 30, 7]
