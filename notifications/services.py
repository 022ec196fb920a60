"""The only writer of digest state: claims periods, sends, records outcomes, unsubscribes.

Exactly once per period: a sender first inserts the (subscription, period) send-log row;
the unique constraint makes any concurrent second sender fail that insert and back off.
A failed row, or a claim whose sender died (older than CLAIM_EXPIRES_AFTER), may be
claimed again with a conditional UPDATE that only one sender can win.
"""

from __future__ import annotations

import enum
import itertools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from common import secret_box
from notifications import delivery
from notifications.channels import channel_delivery
from notifications.digest import Digest, build_digest
from notifications.emails import digest_message
from notifications.models import DigestSendLog, DigestSubscription
from notifications.periods import changes_since, period_key
from notifications.queries import gather_digest_rows
from notifications.recipients import refused_addresses
from notifications.tokens import UnsubscribeTarget, find_recipient

logger = logging.getLogger(__name__)

Status = DigestSendLog.Status
NOT_ALLOWED = "not an address this subscription's owner may use (README: Security)"
# Longer than any send takes; after that a claimed row is taken to belong to a dead sender.
CLAIM_EXPIRES_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class DigestRun:
    """What one run did (or, dry, would do) for one subscription."""

    subscription: DigestSubscription
    period: str
    status: str  # a DigestSendLog status, or "due" in a dry run
    summary: str = ""
    deliveries: tuple[delivery.Delivery, ...] = ()


def send_due_digests(
    *, now: datetime | None = None, subscription_id: int | None = None, dry_run: bool = False
) -> list[DigestRun]:
    """Send every active subscription whose current period is still due."""
    now = now or timezone.now()
    subscriptions = (
        DigestSubscription.objects.filter(active=True).select_related("owner").order_by("pk")
    )
    if subscription_id is not None:
        subscriptions = subscriptions.filter(pk=subscription_id)
    runs = []
    for subscription in subscriptions:
        if not subscription.recipient_list() and not subscription.has_channel:
            continue  # everyone unsubscribed or was removed: nothing to claim
        try:
            period = period_key(subscription.cadence, subscription.time_zone, now)
        except ZoneInfoNotFoundError:
            # Only a bypassed form can store this; the others must still go out.
            logger.error("digest %s: unknown time zone %r", subscription.pk, subscription.time_zone)
            continue
        if dry_run:
            if is_due(subscription, period, now):
                digest = _build(subscription, now)
                runs.append(DigestRun(subscription, period, "due", digest.summary))
            continue
        log = claim_period(subscription, period, now)
        if log is not None:
            runs.append(_send(subscription, log, now))
    return runs


def is_due(subscription: DigestSubscription, period: str, now: datetime) -> bool:
    return (
        not DigestSendLog.objects.filter(subscription=subscription, period=period)
        .exclude(_reclaimable(now))
        .exists()
    )


def claim_period(
    subscription: DigestSubscription, period: str, now: datetime
) -> DigestSendLog | None:
    """The send-log row for this period if this caller may send it, else None."""
    try:
        with transaction.atomic():
            return DigestSendLog.objects.create(
                subscription=subscription, period=period, status=Status.CLAIMED, claimed_at=now
            )
    except IntegrityError:
        pass
    rows = DigestSendLog.objects.filter(subscription=subscription, period=period)
    # The WHERE is re-checked against the row after a concurrent winner's update commits,
    # so of two senders taking over the same row only one sees a row count of 1.
    if rows.filter(_reclaimable(now)).update(status=Status.CLAIMED, claimed_at=now):
        return rows.get()
    logger.debug("digest %s for %s: already sent, or being sent elsewhere", subscription.pk, period)
    return None


def _reclaimable(now: datetime) -> Q:
    return Q(status=Status.FAILED) | Q(
        status=Status.CLAIMED, claimed_at__lt=now - CLAIM_EXPIRES_AFTER
    )


def _build(subscription: DigestSubscription, now: datetime) -> Digest:
    previous = DigestSendLog.objects.filter(
        subscription=subscription, status=Status.SENT
    ).aggregate(at=Max("sent_at"))["at"]
    since = changes_since(previous, subscription.cadence, now)
    rows = gather_digest_rows(subscription, now=now, since=since)
    return build_digest(rows, now=now, since=since, thresholds_days=subscription.thresholds_days)


def _send(subscription: DigestSubscription, log: DigestSendLog, now: datetime) -> DigestRun:
    try:
        digest = _build(subscription, now)
        if digest.is_empty and not subscription.send_empty:
            _finish(log, Status.SKIPPED_EMPTY, now)
            return DigestRun(subscription, log.period, log.status, digest.summary)
        done = (delivery.SENT, delivery.REFUSED)
        waiting = [a for a in subscription.recipient_list() if log.deliveries.get(a) not in done]
        # Checked again when sending: a subscription stored before the rule, or whose
        # owner lost staff, reaches no stranger (notifications/recipients.py).
        not_allowed = refused_addresses(subscription.owner, waiting)
        messages = (
            digest_message(subscription, digest, period=log.period, recipient=address)
            for address in waiting
            if address not in not_allowed
        )
        deliveries = []
        refusals = (delivery.Delivery(a, delivery.REFUSED, NOT_ALLOWED) for a in not_allowed)
        # The chat or webhook target, after the e-mails and only when it does not have
        # this period's digest yet (notifications/channels.py).
        chat = (
            channel_delivery(subscription, digest, period=log.period)
            for _ in range(1)
            if subscription.has_channel and log.deliveries.get(subscription.channel_key) not in done
        )
        for outcome in itertools.chain(refusals, delivery.deliver(messages), chat):
            # Recorded at once: a sender dying mid-list must not resend to these.
            log.deliveries[outcome.address] = outcome.outcome
            log.save(update_fields=["deliveries"])
            deliveries.append(outcome)
    except Exception as exc:
        # Whatever broke this subscription must neither stop the others nor use up its
        # period: the row becomes failed, so the next run claims it again.
        logger.exception("digest %s for %s failed", subscription.pk, log.period)
        _finish(log, Status.FAILED, now, error=f"{type(exc).__name__}: {exc}"[:500])
        return DigestRun(subscription, log.period, log.status)
    problems = [d for d in deliveries if d.outcome != delivery.SENT]
    failed = any(d.outcome == delivery.FAILED for d in problems)
    _finish(
        log,
        Status.FAILED if failed else Status.SENT,
        now,
        error="\n".join(f"{d.address}: {d.outcome}: {d.reason}" for d in problems),
    )
    logger.info(
        "digest %s for %s: %s (%d delivered, %d refused, %d failed)",
        subscription.pk,
        log.period,
        log.status,
        sum(d.outcome == delivery.SENT for d in deliveries),
        sum(d.outcome == delivery.REFUSED for d in deliveries),
        sum(d.outcome == delivery.FAILED for d in deliveries),
    )
    return DigestRun(subscription, log.period, log.status, digest.summary, tuple(deliveries))


def _finish(log: DigestSendLog, status: str, now: datetime, *, error: str = "") -> None:
    log.status = status
    log.error = error
    if status == Status.SENT:
        log.sent_at = now
    log.save(update_fields=["status", "error", "sent_at"])


class Unsubscribed(enum.Enum):
    ASKING = "asking"  # the link is good; nothing removed yet (a GET)
    REMOVED = "removed"
    NOT_A_RECIPIENT = "not-a-recipient"  # already removed, or the subscription is gone
    EXPIRED = "expired"  # made before its address was (re-)added


def unsubscribe_state(
    subscription: DigestSubscription | None, target: UnsubscribeTarget
) -> tuple[Unsubscribed, str | None]:
    """What the link may do to `subscription` now, and the address it names."""
    if subscription is None:
        return Unsubscribed.NOT_A_RECIPIENT, None
    if target.version is None:  # a link from before links carried a version
        return Unsubscribed.EXPIRED, None
    address = find_recipient(subscription.recipient_list(), target.address_key)
    if address is None:
        return Unsubscribed.NOT_A_RECIPIENT, None
    if subscription.added_at(address) > target.version:
        return Unsubscribed.EXPIRED, None
    return Unsubscribed.ASKING, address


def unsubscribe(target: UnsubscribeTarget) -> tuple[Unsubscribed, str | None]:
    """Take one address off a subscription (deactivated when none remain).

    Returns what happened and the address removed. An expired link changes nothing.
    """
    with transaction.atomic():
        subscription = (
            DigestSubscription.objects.select_for_update().filter(pk=target.subscription_id).first()
        )
        state, address = unsubscribe_state(subscription, target)
        if state is not Unsubscribed.ASKING:
            return state, None
        remaining = [a for a in subscription.recipient_list() if a != address]
        subscription.recipients = "\n".join(remaining)
        subscription.active = subscription.active and (bool(remaining) or subscription.has_channel)
        subscription.save(update_fields=["recipients", "active"])
    logger.info("digest %s: one recipient unsubscribed", target.subscription_id)
    return Unsubscribed.REMOVED, address


def save_subscription(form, owner=None) -> DigestSubscription:
    """Save a validated subscription form; a new one belongs to `owner`."""
    if owner is not None and form.instance.pk is None:
        form.instance.owner = owner
    return form.save()


def delete_subscription(subscription: DigestSubscription) -> None:
    subscription.delete()


def rotate_channel_urls() -> tuple[list[str], list[str]]:
    """Re-encrypt every stored chat or webhook URL with the newest key.

    Returns (rotated subscription names, names whose URL no key decrypts)."""
    rotated, undecryptable = [], []
    with transaction.atomic():
        stored = DigestSubscription.objects.exclude(channel_url_encrypted="")
        for subscription in stored.select_for_update():
            try:
                token = secret_box.rotate(subscription.channel_url_encrypted)
            except secret_box.Undecryptable:
                undecryptable.append(subscription.name)
                continue
            subscription.channel_url_encrypted = token
            subscription.save(update_fields=["channel_url_encrypted"])
            rotated.append(subscription.name)
    return rotated, undecryptable
