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


def test_a_slow_job_skips_rounds_instead_of_overlapping_and_others_keep_their_pace():
    recorder = _Recorder({"slow": 0.45, "quick": 0.0})
    scheduler = Scheduler([_job("slow", 0.1), _job("quick", 0.1)], recorder, recorder.lines.append)

    _run_for(scheduler, 1.0)
    assert scheduler.wait(timeout=5)

    assert recorder.most_at_once == {"slow": 1, "quick": 1}
    # Counts stay loose: a busy machine may run the loop late (late slots are not made up).
    assert scheduler.rounds["slow"] >= 2 and scheduler.skipped["slow"] >= 1
    assert scheduler.rounds["quick"] > scheduler.rounds["slow"] and not scheduler.skipped["quick"]
    assert "slow: still running from the last round, this round skipped" in recorder.lines
    assert recorder.lines[:2] == ["slow: started", "quick: started"]


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


def test_a_jump_of_the_wall_clock_neither_bunches_nor_stalls_the_rounds():
    # The schedule keeps time on the monotonic clock: a step of the wall clock (NTP, a
    # resumed VM, a year ahead under `make test-future`) changes nothing. time-machine
    # moves this process's wall clock, every thread included, a year ahead and then back.
    starts: list[float] = []

    def run(job: Job) -> str:
        starts.append(time.monotonic())
        return "ran"

    scheduler = Scheduler([_job("quick", 0.05)], run, [].append)
    began = time.monotonic()
    with time_machine.travel(datetime.now(UTC)) as traveller:
        threading.Timer(0.5, traveller.shift, args=[timedelta(days=400)]).start()
        threading.Timer(1.0, traveller.shift, args=[timedelta(days=-800)]).start()
        _run_for(scheduler, 2.0)
    assert scheduler.wait(timeout=5)

    after_the_jump_ahead = [t for t in starts if 0.5 < t - began < 1.0]
    after_the_jump_back = [t for t in starts if t - began > 1.0]
    assert after_the_jump_ahead and after_the_jump_back  # no stall in either direction
    assert len(starts) == scheduler.rounds["quick"] <= 2.0 / 0.05 + 1  # and no bunching
