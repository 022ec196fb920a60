"""The Celery app. Used only when CELERY_BROKER_URL is set; see docs/design.md "Scale"."""

import os

from celery import Celery
from celery.signals import celeryd_after_setup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tlsposture.settings")

app = Celery("tlsposture")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks live in each app's tasks.py; the beat schedule comes from settings
# (CELERY_BEAT_SCHEDULE, built from tlsposture/schedule.py).
app.autodiscover_tasks()


@celeryd_after_setup.connect
def consume_check_now_queues(sender, instance, **kwargs):
    """A worker started with `-Q zone.<name>` also takes `now.<name>`, the zone's "check now"
    queue (common/queues.py): the worker alternates between its queues, so a check someone
    waits for is next once a slot frees, not after every batch of a round."""
    from common.queues import check_now_queues

    queues = instance.app.amqp.queues
    for queue in check_now_queues(queues.consume_from or {}):
        queues.select_add(queue)
