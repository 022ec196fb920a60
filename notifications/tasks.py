"""Celery entry point; the beat schedule in tlsposture/celery.py calls it every 15 minutes."""

from celery import shared_task

from notifications.services import send_due_digests


@shared_task(name="notifications.send_due_digests")
def send_due_digests_task() -> int:
    """Returns how many subscriptions were acted on (sent, empty or failed)."""
    return len(send_due_digests())
