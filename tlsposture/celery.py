"""The Celery app. Used only when CELERY_BROKER_URL is set; see docs/design.md "Scale"."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tlsposture.settings")

app = Celery("tlsposture")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks live in each app's tasks.py; the beat schedule comes from settings
# (CELERY_BEAT_SCHEDULE, built from tlsposture/schedule.py).
app.autodiscover_tasks()
