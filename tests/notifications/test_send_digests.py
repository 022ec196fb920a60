"""send_digests against a real SMTP server on loopback, under a frozen clock."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client

from inventory.models import CloudAccount
from notifications.models import DigestSendLog
from notifications.tasks import send_due_digests_task
from posture.models import Finding
from tests.notifications.conftest import DAY, NOW, make_instance, subscribe
from tests.notifications.helpers import golden, html, plain_text, send_digests
from tlsposture.celery import app

pytestmark = pytest.mark.django_db


def unsubscribe_path(message) -> str:
    return urlsplit(message["List-Unsubscribe"].strip().strip("<>")).path


def test_each_recipient_gets_the_whole_golden_digest(fleet, owner, smtp_server, frozen_now):
    subscription = subscribe(owner)
    output = send_digests()
    assert f"#{subscription.pk} Platform team 2026-11-23: sent (2 sent)" in output
    ops, dba = smtp_server.messages
    assert (ops["To"], dba["To"]) == ("ops@example.com", "dba@example.com")
    for message in (ops, dba):
        assert plain_text(message) == golden("fleet-daily.txt", subscription, message["To"])
    assert smtp_server.recipients() == ["dba@example.com", "ops@example.com"]


def test_headers_and_subject(fleet, owner, smtp_server, frozen_now):
    subscription = subscribe(owner, recipients="ops@example.com")
    send_digests()
    (message,) = smtp_server.messages
    assert message["From"] == "tlsposture@example.com"
    assert message["Subject"] == (
        "[tlsposture] Daily expiry digest for 2026-11-23: 1 expired, 2 within 7 days, "
        "1 within 30 days, 1 within 90 days, 3 pending rotations, 2 new findings, "
        "1 resolved finding, 1 grade drop, 1 new client without TLS, 1 new client on TLS 1.0/1.1"
    )
    # A long header is folded onto a continuation line; unfolded, it is one <URL>.
    unsubscribe = message["List-Unsubscribe"].strip()
    link = re.fullmatch(
        r"<(https://tlsposture\.example\.com/notifications/unsubscribe/\S+/)>", unsubscribe
    )
    assert link, unsubscribe
    assert link[1] in plain_text(message)
    assert f'href="{link[1]}"' in html(message)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert subscription.recipients not in link[1]  # the address is hashed, not spelled


def test_html_part_has_the_key_rows_with_links(fleet, owner, smtp_server, frozen_now):
    subscribe(owner, recipients="ops@example.com")
    send_digests()
    body = html(smtp_server.messages[0])
    orders = f"https://tlsposture.example.com/instances/{fleet['orders'].pk}/"
    billing = f"https://tlsposture.example.com/instances/{fleet['billing'].pk}/"
    assert '<h2 style="font-size: 16px;">Expired (1)</h2>' in body
    assert (
        f'<tr><td>batch@10.0.4.2</td><td>on TLSv1</td><td><a href="{billing}">billing-db</a>'
        "</td><td>prod-aws</td><td>us-east-1</td><td>first seen 2026-11-23 05:00 CET</td>"
        "<td>2 connections</td></tr>"
    ) in body
    assert (
        f'<tr><td>server certificate</td><td><a href="{orders}">orders-db</a> <strong>new'
        "</strong></td><td>prod-aws</td><td>us-east-1</td><td>2026-11-22 21:00 CET</td>"
        "<td>less than a day ago</td><td></td></tr>"
    ) in body
    assert (
        "<tr><td>CA</td><td>rds-ca-2019</td><td>prod-aws</td><td>us-east-1</td>"
        "<td>2026-11-29 09:00 CET</td><td>in 6 days</td><td>orders-db, reports-db</td></tr>"
    ) in body
    assert (
        f'<tr><td>CA certificate rotation</td><td><a href="{orders}">orders-db</a></td>'
        "<td>prod-aws</td><td>us-east-1</td><td>2026-12-03 09:00 CET</td><td>in 10 days</td></tr>"
    ) in body
    assert (
        f'<tr><td><a href="{billing}">billing-db</a></td><td>prod-aws</td><td>us-east-1</td>'
        "<td>A → C</td></tr>"
    ) in body
    assert 'href="https://tlsposture.example.com/findings/"' in body
    assert "legacy-db" not in body and "far-db" not in body and "unknown-db" not in body


def test_the_unsubscribe_link_works_without_a_session(fleet, owner, smtp_server, frozen_now):
    subscription = subscribe(owner)
    send_digests()
    ops = smtp_server.messages[0]
    path = unsubscribe_path(ops)
    anonymous = Client(enforce_csrf_checks=True)

    page = anonymous.get(path)
    assert page.status_code == 200
    assert b"Stop sending the digest \xe2\x80\x9cPlatform team\xe2\x80\x9d to ops@example.com" in (
        page.content
    )
    assert b'<form method="post"><button type="submit">Unsubscribe</button>' in page.content
    assert b"dba@example.com" not in page.content  # never shows the other recipients
    subscription.refresh_from_db()
    assert subscription.recipient_list() == ["ops@example.com", "dba@example.com"]

    # RFC 8058: the mail client POSTs this body, with no cookie and no CSRF token.
    done = anonymous.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert done.status_code == 200
    assert b"ops@example.com will get no further digests" in done.content
    subscription.refresh_from_db()
    assert (subscription.recipient_list(), subscription.active) == (["dba@example.com"], True)
    again = anonymous.post(path, "List-Unsubscribe=One-Click", content_type="text/plain")
    assert b"already gets no digests" in again.content

    dba_path = unsubscribe_path(smtp_server.messages[1])
    anonymous.post(dba_path)
    subscription.refresh_from_db()
    assert (subscription.recipient_list(), subscription.active) == ([], False)


def test_an_altered_unsubscribe_token_is_refused(fleet, owner, smtp_server, frozen_now):
    subscription = subscribe(owner)
    send_digests()
    path = unsubscribe_path(smtp_server.messages[0])
    forged = path.replace("/unsubscribe/", "/unsubscribe/x")
    for response in (Client().get(forged), Client().post(forged)):
        assert response.status_code == 400
        assert b"not valid" in response.content
        assert b"Platform team" not in response.content
    subscription.refresh_from_db()
    assert len(subscription.recipient_list()) == 2


def test_a_second_run_in_the_same_period_sends_nothing(fleet, owner, smtp_server, frozen_now):
    subscription = subscribe(owner)
    send_digests()
    assert send_digests() == "Nothing due.\n"
    assert len(smtp_server.messages) == 2
    (log,) = DigestSendLog.objects.filter(subscription=subscription)
    assert (log.period, log.status, log.sent_at) == ("2026-11-23", "sent", NOW)
    assert log.deliveries == {"ops@example.com": "sent", "dba@example.com": "sent"}


def test_the_next_period_reports_changes_since_the_previous_digest(
    fleet, owner, smtp_server, frozen_now
):
    subscribe(owner, recipients="ops@example.com")
    # 7½ days left: "within 30 days" today, "within 7 days" tomorrow.
    make_instance(fleet["aws"], "crossing-db", server_cert_not_after=NOW + 7.5 * DAY)
    send_digests()
    Finding.objects.create(
        instance=fleet["orders"],
        finding_id="protocol.legacy_tls",
        severity="high",
        first_seen=NOW + DAY / 2,
        last_seen=NOW + DAY / 2,
    )
    with time_machine.travel(NOW + DAY, tick=False):
        send_digests()
    first, second = (plain_text(m) for m in smtp_server.messages)
    assert "- server certificate of crossing-db (prod-aws, us-east-1)\n" in first
    assert "- [new] server certificate of crossing-db (prod-aws, us-east-1)\n" in second
    assert "- server certificate of orders-db (prod-aws, us-east-1)\n" in second  # not new
    assert "[new] marks a certificate that crossed a threshold since 2026-11-23 09:00 CET" in (
        second
    )
    # Only what changed since the first digest: not its findings, drops or resolutions.
    changes = second[second.index("POSTURE CHANGES SINCE 2026-11-23 09:00 CET") :]
    assert changes.startswith(
        "POSTURE CHANGES SINCE 2026-11-23 09:00 CET\n"
        "New findings (1):\n"
        "- high: protocol.legacy_tls on orders-db (prod-aws, us-east-1)\n"
        "Findings: https://tlsposture.example.com/findings/\n"
    )


def test_a_weekly_digest_goes_out_once_per_iso_week(fleet, owner, smtp_server):
    subscribe(owner, recipients="ops@example.com", cadence="weekly", time_zone="UTC")
    for day in range(7):  # Monday 2026-11-23 … Sunday 2026-11-29
        with time_machine.travel(NOW + day * DAY, tick=False):
            send_digests()
    with time_machine.travel(NOW + 7 * DAY, tick=False):
        send_digests()
    assert len(smtp_server.messages) == 2
    periods = DigestSendLog.objects.order_by("period").values_list("period", flat=True)
    assert list(periods) == ["2026-W48", "2026-W49"]


def test_an_empty_digest_is_recorded_but_not_sent(fleet, owner, smtp_server, frozen_now):
    sandbox = CloudAccount.objects.create(name="sandbox", provider="aws")
    quiet = subscribe(owner, name="Sandbox", accounts=[sandbox])
    output = send_digests()
    assert f"#{quiet.pk} Sandbox 2026-11-23: empty — nothing expiring, no changes" in output
    assert smtp_server.messages == []
    assert DigestSendLog.objects.get(subscription=quiet).status == "empty"
    assert send_digests() == "Nothing due.\n"  # the period is done


def test_an_empty_digest_is_sent_when_asked_for(fleet, owner, smtp_server, frozen_now):
    sandbox = CloudAccount.objects.create(name="sandbox", provider="aws")
    quiet = subscribe(
        owner,
        name="Sandbox weekly",
        recipients="sandbox@example.com",
        cadence="weekly",
        time_zone="UTC",
        accounts=[sandbox],
        send_empty=True,
    )
    send_digests()
    (message,) = smtp_server.messages
    assert plain_text(message) == golden("empty-weekly.txt", quiet, "sandbox@example.com")


def test_dry_run_claims_and_sends_nothing(fleet, owner, smtp_server, frozen_now):
    subscription = subscribe(owner)
    output = send_digests("--dry-run")
    assert output.startswith(f"#{subscription.pk} Platform team 2026-11-23: due — 1 expired")
    assert smtp_server.messages == []
    assert not DigestSendLog.objects.exists()


def test_one_subscription_on_request(fleet, owner, smtp_server, frozen_now):
    subscribe(owner, name="First", recipients="first@example.com")
    second = subscribe(owner, name="Second", recipients="second@example.com")
    send_digests("--subscription", str(second.pk))
    assert smtp_server.recipients() == ["second@example.com"]


def test_the_celery_task_and_its_beat_entry(fleet, owner, smtp_server, frozen_now):
    entry = app.conf.beat_schedule["send-due-digests"]
    assert entry["task"] == send_due_digests_task.name
    assert entry["schedule"] == 15 * 60
    subscribe(owner, recipients="ops@example.com")
    assert send_due_digests_task() == 1
    assert send_due_digests_task() == 0
    assert smtp_server.recipients() == ["ops@example.com"]
