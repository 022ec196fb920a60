"""The in-process scheduler behind `manage.py run_scheduler` (no broker): each job of the
schedule runs at start and then every interval, each in its own thread.

A job still running when it is due again skips that round rather than overlap itself;
different jobs may run side by side. Stopping waits for the running jobs to finish.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from tlsposture.schedule import Job

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        jobs: list[Job],
        run_job: Callable[[Job], str],
        report: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ):
        self.jobs = jobs
        self._run_job = run_job
        self._report = report
        self._clock = clock
        self._running: dict[str, threading.Thread] = {}
        self.rounds: dict[str, int] = {job.name: 0 for job in jobs}
        self.skipped: dict[str, int] = {job.name: 0 for job in jobs}

    def run(self, stop: threading.Event) -> None:
        """Start jobs as they come due until `stop` is set; then return at once."""
        due = {job.name: self._clock() for job in self.jobs}
        while not stop.is_set():
            now = self._clock()
            for job in self.jobs:
                if now < due[job.name]:
                    continue
                # From the planned time, not from now: a late loop does not shift the grid.
                while due[job.name] <= now:
                    due[job.name] += job.every
                self._start(job)
            stop.wait(max(0.0, min(due.values()) - self._clock()))

    def running(self) -> list[str]:
        return [name for name, thread in self._running.items() if thread.is_alive()]

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for running jobs; True when none is left."""
        deadline = None if timeout is None else self._clock() + timeout
        for thread in list(self._running.values()):
            left = None if deadline is None else max(0.0, deadline - self._clock())
            thread.join(left)
        return not self.running()

    def _start(self, job: Job) -> None:
        if job.name in self.running():
            self.skipped[job.name] += 1
            self._report(f"{job.name}: still running from the last round, this round skipped")
            return
        self.rounds[job.name] += 1
        thread = threading.Thread(
            target=self._run, args=(job,), name=f"job-{job.name}", daemon=True
        )
        self._running[job.name] = thread
        thread.start()

    def _run(self, job: Job) -> None:
        started = self._clock()
        self._report(f"{job.name}: started")
        try:
            summary = self._run_job(job)
        except Exception as exc:
            # One failing round must not stop the schedule; the next round tries again.
            log.exception("scheduled job %s failed", job.name)
            self._report(
                f"{job.name}: failed after {self._clock() - started:.1f} s: "
                f"{type(exc).__name__}: {exc}"
            )
            return
        self._report(f"{job.name}: done in {self._clock() - started:.1f} s: {summary}")
