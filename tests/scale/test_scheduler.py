"""The in-process scheduler: jobs run at start and then on their interval, a job never
overlaps itself, and stopping waits for what is running."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import time_machine

from tlsposture.schedule import Job
from tlsposture.scheduler import Scheduler


class _Recorder:
    """Runs jobs by sleeping for a set time; remembers how many ran at once."""

    def __init__(self, seconds: dict[str, float]):
        self.seconds = seconds
        self.lock = threading.Lock()
        self.active: dict[str, int] = {}
        self.most_at_once: dict[str, int] = {}
        self.lines: list[str] = []

    def __call__(self, job: Job) -> str:
        with self.lock:
            self.active[job.name] = self.active.get(job.name, 0) + 1
            self.most_at_once[job.name] = max(
                self.most_at_once.get(job.name, 0), self.active[job.name]
            )
        time.sleep(self.seconds[job.name])
        with self.lock:
            self.active[job.name] -= 1
        return "slept"


def _job(name: str, every: float) -> Job:
    return Job(name=name, every=every, task=f"tests.{name}", fans_out=False)


def _run_for(scheduler: Scheduler, seconds: float) -> None:
    stop = threading.Event()
    threading.Timer(seconds, stop.set).start()
    scheduler.run(stop)


class _SimulatedTime:
    """The scheduler's clock and stop event in one, so that a test can count rounds exactly
    on a busy machine: a wait moves the clock on at once instead of sleeping, but only once
    every job started so far has finished or waits in `work` for a later simulated time.
    The jobs still run in the scheduler's own threads."""

    def __init__(self, until: float):
        self.now = 0.0
        self.until = until
        self.scheduler: Scheduler | None = None
        self._changed = threading.Condition()
        self._working: dict[str, float] = {}  # job → the simulated time its work ends

    def __call__(self) -> float:
        return self.now

    def is_set(self) -> bool:
        return self.now >= self.until

    def wait(self, timeout: float) -> bool:
        self._settle()
        with self._changed:
            self.now += timeout
            self._working = {job: end for job, end in self._working.items() if end > self.now}
            self._changed.notify_all()
        self._settle()
        return self.is_set()

    def work(self, job: str, seconds: float) -> None:
        with self._changed:
            end = self.now + seconds
            self._working[job] = end
            self._changed.notify_all()
            self._changed.wait_for(lambda: self.now >= end)

    def _settle(self) -> None:
        deadline = time.monotonic() + 10
        with self._changed:
            while not set(self.scheduler.running()) <= set(self._working):
                assert time.monotonic() < deadline, "a job thread never finished nor waited"
                self._changed.wait(0.001)


def test_a_slow_job_skips_rounds_instead_of_overlapping_and_others_keep_their_pace():
    # Simulated time (binary fractions, so sums are exact): every 1/8 s for one second;
    # the slow job works 7/16 s a round.
    clock = _SimulatedTime(until=1.0)
    starts: dict[str, list[float]] = {"slow": [], "quick": []}
    lines: list[str] = []

    def run(job: Job) -> str:
        starts[job.name].append(clock.now)
        if job.name == "slow":
            clock.work(job.name, 7 / 16)
        return "done"

    scheduler = Scheduler(
        [_job("slow", 1 / 8), _job("quick", 1 / 8)], run, lines.append, clock=clock
    )
    clock.scheduler = scheduler
    scheduler.run(clock)
    assert scheduler.wait(timeout=5)

    # Both run at start; the slow one again at the first slot after it finished, never
    # twice at once; the quick one at every slot, whatever the slow one does.
    assert starts == {"slow": [0, 0.5], "quick": [n / 8 for n in range(8)]}
    assert scheduler.rounds == {"slow": 2, "quick": 8}
    assert scheduler.skipped == {"slow": 6, "quick": 0}
    assert lines.count("slow: still running from the last round, this round skipped") == 6


def test_stopping_returns_at_once_and_wait_lets_the_running_job_finish():
    recorder = _Recorder({"sync": 0.6})
    scheduler = Scheduler([_job("sync", 60)], recorder, recorder.lines.append)

    _run_for(scheduler, 0.1)
    assert scheduler.running() == ["sync"]
    assert not scheduler.wait(timeout=0.05)
    assert scheduler.wait(timeout=5)
    assert scheduler.running() == []
    assert recorder.lines[0] == "sync: started"
    assert recorder.lines[1].startswith("sync: done in 0.") and recorder.lines[1].endswith("slept")


def test_a_failing_job_is_reported_and_runs_again_next_round():
    calls = []

    def run(job: Job) -> str:
        calls.append(job.name)
        raise RuntimeError("the cloud said no")

    lines: list[str] = []
    scheduler = Scheduler([_job("sync", 0.15)], run, lines.append)
    _run_for(scheduler, 0.4)
    scheduler.wait(timeout=5)

    assert len(calls) >= 2
    assert any(line.endswith("RuntimeError: the cloud said no") for line in lines)


def test_a_jump_of_the_wall_clock_neither_stalls_nor_bunches_the_rounds():
    # The schedule keeps time on the monotonic clock: a step of the wall clock (NTP, a
    # resumed VM, a year ahead under `make test-future`) changes nothing. time-machine moves
    # this process's wall clock, every thread included: a year ahead after the 3rd round,
    # back past the start after the 6th; the 9th round ends the run.
    every = 0.05
    starts: list[float] = []
    stop = threading.Event()
    with time_machine.travel(datetime.now(UTC)) as traveller:

        def run(job: Job) -> str:
            starts.append(time.monotonic())
            if len(starts) == 3:
                traveller.shift(timedelta(days=400))
            elif len(starts) == 6:
                traveller.shift(timedelta(days=-800))
            elif len(starts) == 9:
                stop.set()
            return "ran"

        scheduler = Scheduler([_job("quick", every)], run, [].append)
        stalled = threading.Timer(60, stop.set)  # a stalled schedule ends here, and fails
        stalled.start()
        began = time.monotonic()
        try:
            scheduler.run(stop)
        finally:
            ran_for = time.monotonic() - began
            stalled.cancel()
    assert scheduler.wait(timeout=5)

    assert len(starts) >= 9  # rounds went on after both jumps
    assert len(starts) <= ran_for / every + 1  # and no more than the interval allows
