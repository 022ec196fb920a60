"""Celery tasks that span apps. The zone work lives in inventory/tasks.py and
checker/tasks.py; digests in notifications/tasks.py."""

from celery import shared_task

from tlsposture import jobs


@shared_task(name="tlsposture.close_abandoned_runs")
def close_abandoned_runs() -> str:
    """The janitor: runs whose worker died and whose task was never delivered again."""
    return jobs.close_abandoned_runs()
