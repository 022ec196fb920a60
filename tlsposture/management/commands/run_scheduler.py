"""`manage.py run_scheduler [--job NAME ...]`: the schedule of tlsposture/schedule.py, run in
this process — the embedded install's replacement for Celery beat and workers.

Ctrl-C or SIGTERM stops starting jobs and waits for the running ones to finish; a second
one exits at once (the janitor closes the runs it leaves behind, on the next start).
"""

from __future__ import annotations

import os
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
        with _StopSignals() as signals:
            # The schedule runs in a thread of its own; this one only waits for a signal.
            loop = threading.Thread(target=scheduler.run, args=(stop,), name="schedule")
            loop.start()
            while loop.is_alive() and not signals.received(timeout=1.0):
                pass
            stop.set()
            loop.join()
            waiting = scheduler.running()
            if waiting:
                self._say(f"stopping: waiting for {', '.join(waiting)} (again to exit now)")
            while not scheduler.wait(timeout=0.5):
                if signals.received(timeout=0):
                    self.stderr.write(f"stopped with {', '.join(scheduler.running())} unfinished")
                    self.stdout.flush()
                    self.stderr.flush()
                    # Not sys.exit: the interpreter would wait for the threads a job started
                    # (a sync's pool per region). The next start closes the runs left open.
                    os._exit(1)
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


class _StopSignals:
    """SIGINT and SIGTERM, taken synchronously: blocked in this thread and in every thread it
    starts from here on, and read with sigtimedwait. A handler would have to run between two
    bytecodes of the main thread, which may then hold the very lock that setting an Event
    takes (a deadlock), or sleep through a signal the kernel gave to a job thread."""

    SIGNALS = {signal.SIGINT, signal.SIGTERM}

    def received(self, timeout: float) -> bool:
        return signal.sigtimedwait(self.SIGNALS, timeout) is not None

    def __enter__(self):
        self._before = signal.pthread_sigmask(signal.SIG_BLOCK, self.SIGNALS)
        return self

    def __exit__(self, *exc):
        signal.pthread_sigmask(signal.SIG_SETMASK, self._before)
