"""The Celery app. Used only when CELERY_BROKER_URL is set; see DESIGN.md "Scale"."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tlsposture.settings")

app = Celery("tlsposture")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Frequent on purpose: each subscription is sent once per period however often this runs,
# so the interval only bounds how late after local midnight a digest goes out.
app.conf.beat_schedule = {
    "send-due-digests": {"task": "notifications.send_due_digests", "schedule": 15 * 60},
}
