"""Digests to Slack, Teams and a generic webhook, delivered through Apprise to real HTTP(S)
receivers on loopback: content, once per period, failures and retries, who may add which
target, and the URL's secret kept out of every page, log and error."""

from __future__ import annotations

import logging
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from apprise.plugins.slack import NotifySlack
from django.core.management import call_command
from django.urls import reverse

from common import secret_box
from fleet.certs import make_ca, make_server_cert
from notifications.forms import DigestSubscriptionForm
from notifications.models import DigestSendLog
from tests.notifications.conftest import subscribe
from tests.notifications.helpers import send_digests
from tests.notifications.receiver import Receiver

pytestmark = pytest.mark.django_db

SLACK_URL = "https://hooks.slack.com/services/T0LOOPBACK/B0LOOPBACK/sl4ckS3cretT0kenValue"
SLACK_TOKEN = "sl4ckS3cretT0kenValue"
WEBHOOK_TOKEN = "w3bh00k-s3cret-t0ken"


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def slack(receiver, monkeypatch):
    """Apprise's own Slack plugin, its webhook host pointed at the loopback receiver (the
    only change: the URL, its tokens and the payload are Apprise's)."""
    monkeypatch.setattr(NotifySlack, "webhook_url", receiver.base + "/services")
    return receiver


@pytest.fixture
def teams(tmp_path, monkeypatch):
    """An HTTPS receiver with a certificate from a CA the HTTP client is told to trust:
    the Teams (Workflows) plugin speaks only verified TLS, as in production."""
    ca = make_ca("tlsposture receiver test CA")
    bundle = ca.write(tmp_path / "receiver-ca.pem")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    certificate = make_server_cert(["127.0.0.1"], issuer=ca)
    with Receiver(certificate=certificate, workdir=tmp_path) as running:
        yield running


def _with_channel(owner, kind, url, **fields):
    subscription = subscribe(owner, **fields)
    subscription.channel = kind
    subscription.channel_url_encrypted = secret_box.encrypt(url)
    subscription.save()
    return subscription


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "platform-lead", email="lead@example.com", password="pw-for-tests-only", is_staff=True
    )


def _log(subscription) -> DigestSendLog:
    return DigestSendLog.objects.get(subscription=subscription)


def test_slack_gets_the_digest_with_the_e_mails(fleet, staff, slack, smtp_server, frozen_now):
    subscription = _with_channel(staff, "slack", SLACK_URL)
    send_digests()
    (request,) = slack.received
    assert request.path == "/services/T0LOOPBACK/B0LOOPBACK/" + SLACK_TOKEN
    payload = request.json()
    (attachment,) = payload["attachments"]
    assert attachment["title"].startswith("[tlsposture] Daily expiry digest for 2026-11-23: ")
    text = attachment["text"]
    assert "server certificate of orders-db (prod-aws, us-east-1): expired" in text
    assert "high: transport.not_enforced on orders-db" in text  # posture changes
    assert "billing-db (prod-aws, us-east-1): A → C" in text  # the grade drop
    assert (
        "- app@10.0.3.7 on orders-db (prod-aws, us-east-1): without TLS, first seen "
        "2026-11-23 03:00 CET" in text
    )  # the clients first seen without TLS or on TLS 1.0/1.1
    assert "https://tlsposture.example.com/certificates/" in text
    log = _log(subscription)
    assert log.status == DigestSendLog.Status.SENT
    assert log.deliveries == {
        "ops@example.com": "sent",
        "dba@example.com": "sent",
        "slack-target": "sent",
    }
    assert len(smtp_server.handler.envelopes) == 2  # the same scope, still by e-mail too
    send_digests()  # once per period: nothing more
    assert len(slack.received) == 1


def test_teams_over_verified_tls(fleet, staff, teams, frozen_now):
    url = f"workflows://127.0.0.1:{teams.port}/6d1e0c3a9b8f4e2d/T3amsS1gnatureValue"
    subscription = _with_channel(staff, "teams", url, recipients="")
    send_digests()
    (request,) = teams.received
    parts = urlsplit(request.path)
    assert parts.path == "/workflows/6d1e0c3a9b8f4e2d/triggers/manual/paths/invoke"
    assert parse_qs(parts.query)["sig"] == ["T3amsS1gnatureValue"]
    card = request.json()["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    texts = " ".join(block.get("text", "") for block in card["content"]["body"])
    assert "Daily expiry digest for 2026-11-23" in texts
    assert "orders-db" in texts
    assert _log(subscription).deliveries == {"teams-target": "sent"}


def test_teams_refuses_a_certificate_it_cannot_verify(fleet, staff, teams, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    url = f"workflows://127.0.0.1:{teams.port}/6d1e0c3a9b8f4e2d/T3amsS1gnatureValue"
    subscription = _with_channel(staff, "teams", url, recipients="")
    send_digests()
    assert teams.received == []  # the handshake failed before anything was sent
    log = _log(subscription)
    assert log.deliveries == {"teams-target": "failed"}
    assert "T3amsS1gnatureValue" not in log.error and "6d1e0c3a9b8f4e2d" not in log.error


def test_a_generic_webhook_gets_json(fleet, staff, receiver, frozen_now):
    url = f"{receiver.base}/hooks/tlsposture?token={WEBHOOK_TOKEN}"
    subscription = _with_channel(staff, "webhook", url, recipients="")
    send_digests()
    (request,) = receiver.received
    assert urlsplit(request.path).path == "/hooks/tlsposture"
    assert parse_qs(urlsplit(request.path).query) == {"token": [WEBHOOK_TOKEN]}
    assert request.headers["Content-Type"] == "application/json"
    body = request.json()
    assert body["title"].startswith("[tlsposture] Daily expiry digest for 2026-11-23")
    assert "**Pending rotations (3)**" in body["message"]
    assert _log(subscription).status == DigestSendLog.Status.SENT


def test_a_failing_target_is_retried_in_the_period_and_the_e_mails_are_not(
    fleet, staff, receiver, smtp_server, frozen_now, caplog
):
    url = f"{receiver.base}/hooks/tlsposture?token={WEBHOOK_TOKEN}"
    subscription = _with_channel(staff, "webhook", url)
    receiver.status = 500
    with caplog.at_level(logging.DEBUG):
        send_digests()
    log = _log(subscription)
    assert log.status == DigestSendLog.Status.FAILED
    assert log.deliveries["webhook-target"] == "failed"
    assert "500" in log.error or "Internal Server Error" in log.error
    assert len(smtp_server.handler.envelopes) == 2
    receiver.status = 200
    send_digests()  # the period is still due: only the target is tried again
    assert len(receiver.received) == 2 and len(smtp_server.handler.envelopes) == 2
    log.refresh_from_db()
    assert log.status == DigestSendLog.Status.SENT and log.error == ""
    send_digests()
    assert len(receiver.received) == 2
    _assert_secret_nowhere(log.error + _logged(caplog), url)


def _logged(caplog) -> str:
    """What reaches the log: Apprise's own logger goes nowhere (settings.LOGGING), though
    pytest captures it too."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("apprise"))


def test_apprise_logs_nowhere(settings):
    apprise_logging = settings.LOGGING["loggers"]["apprise"]
    assert apprise_logging["propagate"] is False
    assert [settings.LOGGING["handlers"][h]["class"] for h in apprise_logging["handlers"]] == [
        "logging.NullHandler"
    ]


def test_a_target_that_does_not_answer_in_time_is_retried(
    fleet, staff, receiver, frozen_now, settings, caplog
):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "WEBHOOK_TIMEOUT": 0.5}
    url = f"{receiver.base}/hooks/tlsposture?token={WEBHOOK_TOKEN}"
    subscription = _with_channel(staff, "webhook", url, recipients="")
    receiver.delay = 3
    with caplog.at_level(logging.DEBUG):
        send_digests()
    log = _log(subscription)
    assert log.status == DigestSendLog.Status.FAILED
    assert "timed out" in log.error.lower() or "timeout" in log.error.lower(), log.error
    _assert_secret_nowhere(log.error + _logged(caplog), url)
    receiver.delay = 0
    send_digests()
    log.refresh_from_db()
    assert log.status == DigestSendLog.Status.SENT


def _assert_secret_nowhere(text: str, url: str) -> None:
    assert WEBHOOK_TOKEN not in text
    assert url not in text
    assert "/hooks/tlsposture" not in text


def test_a_non_staff_user_may_only_target_allowed_prefixes(fleet, owner, settings):
    settings.TLSPOSTURE = {
        **settings.TLSPOSTURE,
        "DIGEST_ALLOWED_WEBHOOKS": ["https://hooks.slack.com/services/T0LOOPBACK/"],
    }
    base = {
        "name": "Mine",
        "recipients": "",
        "thresholds_days": "90, 30, 7",
        "cadence": "daily",
        "time_zone": "UTC",
        "active": "on",
    }

    def form(kind, url):
        return DigestSubscriptionForm({**base, "channel": kind, "channel_url": url}, owner=owner)

    assert form("slack", SLACK_URL).is_valid()
    other_workspace = "https://hooks.slack.com/services/T0ELSEWHERE/B0LOOPBACK/abcdefabcdef"
    refused = form("slack", other_workspace)
    assert not refused.is_valid()
    assert "must start with https://hooks.slack.com/services/T0LOOPBACK/" in str(
        refused.errors["channel_url"]
    )
    # Any Apprise URL, and any webhook outside the list, is staff's alone.
    assert not form("apprise", "discord://123456/abcdefabcdef").is_valid()
    assert not form("webhook", "https://collector.example.net/in").is_valid()
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "DIGEST_ALLOWED_WEBHOOKS": []}
    assert "Only staff add chat and webhook targets" in str(
        form("slack", SLACK_URL).errors["channel_url"]
    )


def test_the_sender_checks_the_rule_again(fleet, owner, slack, settings, frozen_now):
    # Stored while the prefix was allowed (or while the owner was staff): now it is not.
    subscription = _with_channel(owner, "slack", SLACK_URL, recipients="")
    send_digests()
    assert slack.received == []
    log = _log(subscription)
    assert log.deliveries == {"slack-target": "refused"}
    assert log.status == DigestSendLog.Status.SENT  # refused is final: not retried
    send_digests()
    assert slack.received == []


@pytest.mark.parametrize(
    ("kind", "url", "problem"),
    [
        ("webhook", "http://collector.example.net/in", "must be https"),
        ("slack", "https://collector.example.net/services/a/b/c", "not a URL for Slack"),
        ("teams", SLACK_URL, "not a URL for Microsoft Teams"),
        ("apprise", "json://collector.example.net/in", "unencrypted"),
        ("apprise", "jsons://collector.example.net/in?verify=no", "verification must stay on"),
        ("apprise", "nosuchscheme://x", "does not recognise"),
    ],
)
def test_urls_that_would_leak_or_mislead_are_refused(fleet, staff, kind, url, problem):
    data = {
        "name": "x",
        "recipients": "",
        "thresholds_days": "30",
        "cadence": "daily",
        "time_zone": "UTC",
        "channel": kind,
        "channel_url": url,
    }
    form = DigestSubscriptionForm(data, owner=staff)
    assert not form.is_valid()
    assert problem in str(form.errors["channel_url"])


def test_the_url_is_never_shown_again(client, fleet, staff, django_user_model):
    client.force_login(staff)
    data = {
        "name": "Chat",
        "recipients": "",
        "thresholds_days": "90, 30, 7",
        "cadence": "daily",
        "time_zone": "UTC",
        "active": "on",
        "channel": "slack",
        "channel_url": SLACK_URL,
    }
    response = client.post(reverse("notifications:subscription-create"), data)
    assert response.status_code == 302
    subscription = staff.digest_subscriptions.get()
    assert SLACK_TOKEN not in subscription.channel_url_encrypted
    assert secret_box.decrypt(subscription.channel_url_encrypted) == SLACK_URL
    edit = client.get(reverse("notifications:subscription-edit", args=[subscription.pk]))
    page = edit.content.decode()
    assert "Set — replace?" in page and SLACK_TOKEN not in page and "T0LOOPBACK" not in page
    assert "Slack (URL set)" in client.get(reverse("notifications:subscriptions")).content.decode()
    # Saving without a new URL keeps it; a new one replaces it; "remove" clears it.
    client.post(
        reverse("notifications:subscription-edit", args=[subscription.pk]),
        data | {"channel_url": ""},
    )
    subscription.refresh_from_db()
    assert secret_box.decrypt(subscription.channel_url_encrypted) == SLACK_URL
    # The admin shows it read-only, as "set".
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-x1")
    client.force_login(admin)
    change = client.get(
        reverse("admin:notifications_digestsubscription_change", args=[subscription.pk])
    )
    html = change.content.decode()
    assert "set (encrypted" in html and SLACK_TOKEN not in html
    assert 'name="channel_url"' not in html
    client.force_login(staff)
    client.post(
        reverse("notifications:subscription-edit", args=[subscription.pk]),
        data | {"channel_url": "", "clear_channel_url": "on", "recipients": "lead@example.com"},
    )
    subscription.refresh_from_db()
    assert not subscription.has_channel and subscription.channel_url_encrypted == ""


def test_rotate_secrets_re_encrypts_the_url(fleet, staff, settings):
    from cryptography.fernet import Fernet

    subscription = _with_channel(staff, "slack", SLACK_URL)
    old = settings.TLSPOSTURE["SECRET_KEYS"]
    new_key = Fernet.generate_key().decode()
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "SECRET_KEYS": [new_key, *old]}
    out = StringIO()
    call_command("rotate_secrets", stdout=out)
    assert "re-encrypted 1 digest target URL(s)" in out.getvalue()
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "SECRET_KEYS": [new_key]}
    subscription.refresh_from_db()
    assert secret_box.decrypt(subscription.channel_url_encrypted) == SLACK_URL
