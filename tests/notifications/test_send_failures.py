"""What a failed send leaves behind, and that each period is sent once even when raced."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from django.db import connection

from notifications.models import DigestSendLog
from notifications.periods import period_key
from notifications.services import is_due, send_due_digests
from tests.notifications.conftest import NOW, subscribe
from tests.notifications.helpers import send_digests
from tests.notifications.smtp import SMTPServer

pytestmark = pytest.mark.django_db


def test_mail_server_down_leaves_the_subscription_due_and_the_next_run_sends(
    fleet, owner, smtp_server, frozen_now, settings, caplog
):
    subscription = subscribe(owner)
    smtp_server.stop()  # nothing listens on the port any more: connection refused
    with caplog.at_level(logging.WARNING, logger="notifications"):
        output = send_digests()
    assert f"#{subscription.pk} Platform team 2026-11-23: failed (2 failed)" in output
    log = DigestSendLog.objects.get(subscription=subscription)
    assert log.status == "failed"
    assert "ConnectionRefusedError" in log.error
    assert log.deliveries == {"ops@example.com": "failed", "dba@example.com": "failed"}
    assert is_due(subscription, "2026-11-23", NOW)
    assert caplog.text.count("mail server not usable: ConnectionRefusedError") == 1

    server = SMTPServer()
    server.start()
    try:
        settings.EMAIL_PORT = server.port
        send_digests()
        assert server.recipients() == ["dba@example.com", "ops@example.com"]
    finally:
        server.stop()
    log.refresh_from_db()
    assert (log.status, log.error, log.sent_at) == ("sent", "", NOW)
    assert not is_due(subscription, "2026-11-23", NOW)


def test_a_refused_address_does_not_stop_the_others_and_is_not_retried(
    fleet, owner, smtp_server, frozen_now
):
    subscription = subscribe(owner, recipients="gone@example.com\nops@example.com")
    smtp_server.handler.refuse["gone@example.com"] = "550 5.1.1 No such user"
    output = send_digests()
    assert "sent (1 refused, 1 sent)" in output
    assert smtp_server.recipients() == ["ops@example.com"]
    log = DigestSendLog.objects.get(subscription=subscription)
    assert log.status == "sent"
    assert log.deliveries == {"gone@example.com": "refused", "ops@example.com": "sent"}
    assert log.error == "gone@example.com: refused: 550 5.1.1 No such user"
    assert send_digests() == "Nothing due.\n"


def test_a_temporary_refusal_is_retried_for_that_address_only(
    fleet, owner, smtp_server, frozen_now
):
    subscription = subscribe(owner, recipients="busy@example.com\nops@example.com")
    smtp_server.handler.refuse["busy@example.com"] = "451 4.3.0 Try again later"
    send_digests()
    log = DigestSendLog.objects.get(subscription=subscription)
    assert log.status == "failed"
    assert log.error == "busy@example.com: failed: 451 4.3.0 Try again later"

    del smtp_server.handler.refuse["busy@example.com"]
    send_digests()
    assert smtp_server.recipients() == ["busy@example.com", "ops@example.com"]  # once each
    log.refresh_from_db()
    assert log.status == "sent"
    assert log.deliveries == {"busy@example.com": "sent", "ops@example.com": "sent"}


def test_a_message_refused_after_data_counts_like_a_refused_address(
    fleet, owner, smtp_server, frozen_now
):
    subscription = subscribe(
        owner, recipients="strict@example.com\nslow@example.com\nops@example.com"
    )
    smtp_server.handler.refuse_data["strict@example.com"] = "554 5.7.1 Rejected by policy"
    smtp_server.handler.refuse_data["slow@example.com"] = "452 4.3.1 Insufficient storage"
    send_digests()
    assert smtp_server.recipients() == ["ops@example.com"]  # the session carried on
    log = DigestSendLog.objects.get(subscription=subscription)
    assert log.status == "failed"  # slow@ is retried; strict@ is not
    assert log.deliveries == {
        "strict@example.com": "refused",
        "slow@example.com": "failed",
        "ops@example.com": "sent",
    }


def test_a_broken_subscription_fails_alone(fleet, owner, smtp_server, frozen_now, caplog):
    broken = subscribe(owner, name="Broken", recipients="a@example.com", thresholds_days=[])
    unknown_zone = subscribe(owner, name="Zone", recipients="b@example.com", time_zone="Mars/Base")
    subscribe(owner, name="Fine", recipients="ops@example.com")
    with caplog.at_level(logging.ERROR, logger="notifications"):
        send_digests()
    assert smtp_server.recipients() == ["ops@example.com"]
    log = DigestSendLog.objects.get(subscription=broken)
    assert log.status == "failed"
    assert log.error.startswith("ValueError")
    assert not DigestSendLog.objects.filter(subscription=unknown_zone).exists()
    assert f"digest {unknown_zone.pk}: unknown time zone 'Mars/Base'" in caplog.text


def test_a_claim_in_progress_is_left_alone_and_an_abandoned_one_is_taken_over(
    fleet, owner, smtp_server, frozen_now
):
    subscription = subscribe(owner, recipients="ops@example.com")
    log = DigestSendLog.objects.create(
        subscription=subscription,
        period="2026-11-23",
        status="claimed",
        claimed_at=NOW - timedelta(minutes=50),
    )
    assert send_digests() == "Nothing due.\n"
    log.claimed_at = NOW - timedelta(minutes=61)  # its sender died mid-way
    log.save()
    send_digests()
    assert smtp_server.recipients() == ["ops@example.com"]
    log.refresh_from_db()
    assert (log.status, log.claimed_at) == ("sent", NOW)


def _race(workers: int):
    """Run send_due_digests in several threads released at the same moment."""
    start = threading.Barrier(workers)
    errors = []

    def worker():
        try:
            start.wait()
            send_due_digests()
        except Exception as exc:  # reported below: a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_a_run_started_while_another_is_mid_send_backs_off(fleet, owner, smtp_server, frozen_now):
    subscription = subscribe(owner, recipients="ops@example.com")
    smtp_server.handler.hold = threading.Event()
    first = threading.Thread(target=lambda: (send_due_digests(), connection.close()))
    first.start()
    try:
        assert smtp_server.handler.holding.wait(30)  # the first sender is inside DATA now
        assert send_digests() == "Nothing due.\n"
        assert DigestSendLog.objects.get(subscription=subscription).status == "claimed"
    finally:
        smtp_server.handler.hold.set()
        first.join(timeout=30)
    assert smtp_server.recipients() == ["ops@example.com"]
    assert DigestSendLog.objects.get(subscription=subscription).status == "sent"


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_digest_once(fleet, owner, smtp_server, frozen_now, caplog):
    subscriptions = [
        subscribe(owner, name=f"Team {n}", recipients=f"team{n}@example.com") for n in range(3)
    ]
    with caplog.at_level(logging.DEBUG, logger="notifications.services"):
        assert _race(4) == []
    assert caplog.text.count("being sent elsewhere") == 3 * 3  # every loser backed off
    assert smtp_server.recipients() == [
        "team0@example.com",
        "team1@example.com",
        "team2@example.com",
    ]
    for subscription in subscriptions:
        (log,) = DigestSendLog.objects.filter(subscription=subscription)
        assert (log.period, log.status) == (period_key("daily", "Europe/Berlin", NOW), "sent")
