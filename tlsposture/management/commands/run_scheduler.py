"""`manage.py run_scheduler [--job NAME ...]`: the schedule of tlsposture/schedule.py, run in
this process — the embedded install's replacement for Celery beat and workers.

Ctrl-C or SIGTERM stops starting jobs and waits for the running ones to finish; a second
one exits at once (the janitor closes the runs it leaves behind, on the next start).
"""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.module_loading import import_string

from tlsposture.schedule import Job, jobs
from tlsposture.scheduler import Scheduler


class Command(BaseCommand):
    help = "Run sync, checks, digests and the janitor on their schedule, in this process."

    def add_arguments(self, parser):
        parser.add_argument(
            "--job",
            action="append",
            default=[],
            metavar="NAME",
            help="only this job (repeatable): " + ", ".join(job.name for job in jobs()),
        )

    def handle(self, *args, **options):
        if settings.CELERY_BROKER_URL:
            raise CommandError(
                "CELERY_BROKER_URL is set: the schedule runs in Celery beat "
                "(`celery -A tlsposture beat`) with workers per zone, not here"
            )
        schedule = _chosen(jobs(), options["job"])
        for job in schedule:
            self._say(f"{job.name}: every {_duration(job.every)}")
        scheduler = Scheduler(schedule, _run_in_thread, self._say)
        stop = threading.Event()
        interrupted = _StopOnSignals(stop)
        with interrupted:
            scheduler.run(stop)
            waiting = scheduler.running()
            if waiting:
                self._say(f"stopping: waiting for {', '.join(waiting)} (again to exit now)")
            while not scheduler.wait(timeout=0.5):
                if interrupted.count > 1:
                    raise CommandError(f"stopped with {', '.join(scheduler.running())} unfinished")
        self._say("stopped")

    def _say(self, line: str) -> None:
        self.stdout.write(f"{timezone.now():%Y-%m-%d %H:%M:%S} {line}")
        self.stdout.flush()


def _chosen(schedule: list[Job], names: list[str]) -> list[Job]:
    if not names:
        return schedule
    known = {job.name for job in schedule}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise CommandError(f"no such job: {', '.join(unknown)} (known: {', '.join(known)})")
    return [job for job in schedule if job.name in names]


def _run_in_thread(job: Job) -> str:
    # Each job thread has its own database connection: start fresh, close when done.
    close_old_connections()
    try:
        return import_string(job.function)(every=job.every)
    finally:
        connection.close()


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size:.0f}{unit}"
    return f"{seconds:g}s"


class _StopOnSignals:
    """SIGINT and SIGTERM set `stop`; the handlers before are restored on exit."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, stop: threading.Event):
        self.stop = stop
        self.count = 0
        self._before = {}

    def _handle(self, signum, frame):
        self.count += 1
        self.stop.set()

    def __enter__(self):
        for signum in self.SIGNALS:
            self._before[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._before.items():
            signal.signal(signum, handler)
