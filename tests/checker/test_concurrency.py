"""The checker's concurrency (checker/concurrency.py): the adaptive limit's decisions under
simulated CPU conditions, the pacer driven by an injected clock, and the pool's bounds —
global, per host, threads, results waiting — as counts, never as times."""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter

import pytest

from checker.concurrency import (
    BUSY_HIGH,
    BUSY_LOW,
    INTERVAL,
    LATE,
    TICK,
    AdaptiveLimit,
    BoundedRun,
    Governor,
    Sample,
)

ROOM = Sample(busy=0.1, held_back=True)  # checks wait on the network, more are ready
SATURATED = Sample(busy=0.9, held_back=True)


def wait_until(condition, what: str, timeout: float = 20.0):
    """Poll for a state the threads under test must reach; fails naming it (no timing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.005)
    raise AssertionError(f"never reached: {what}")


class Blocking:
    """Work that records what runs at once, per host, and waits until released."""

    def __init__(self):
        self.lock = threading.Lock()
        self.running: Counter = Counter()
        self.most_on_host = 0
        self.most_at_once = 0
        self.started: list[tuple[str, int]] = []
        self.release = threading.Event()

    def __call__(self, item: tuple[str, int]) -> tuple[str, int]:
        host, _ = item
        with self.lock:
            self.started.append(item)
            self.running[host] += 1
            self.most_on_host = max(self.most_on_host, self.running[host])
            self.most_at_once = max(self.most_at_once, sum(self.running.values()))
        try:
            if not self.release.wait(timeout=60):
                raise AssertionError("never released")
            return item
        finally:
            with self.lock:
                self.running[host] -= 1

    def now(self) -> int:
        with self.lock:
            return sum(self.running.values())


def items(hosts: int, each: int) -> list[tuple[str, int]]:
    return [(f"host-{h}", n) for n in range(each) for h in range(hosts)]


def pool(
    work, things, *, ceiling: int, per_host: int = 2, governor: Governor | None = None, name="t"
):
    return BoundedRun(
        things,
        work,
        host_of=lambda item: item[0],
        per_host=per_host,
        ceiling=ceiling,
        on_error=lambda item, exc: ("error", type(exc).__name__),
        pacing=governor or Governor(floor=16),
        thread_name=name,
    )


def consume_in_background(run: BoundedRun) -> tuple[threading.Thread, list]:
    results: list = []
    thread = threading.Thread(target=lambda: results.extend(run), daemon=True)
    thread.start()
    return thread, results


# -- the decision ------------------------------------------------------------------------


def test_the_limit_grows_by_a_quarter_while_checks_wait_and_the_cpu_has_room():
    limit = AdaptiveLimit(floor=16, ceiling=256)
    steps = [limit.update(ROOM) for _ in range(15)]
    assert steps == [20, 25, 31, 38, 47, 58, 72, 90, 112, 140, 175, 218, 256, 256, 256]


def test_the_limit_grows_by_at_least_one_from_a_small_floor():
    limit = AdaptiveLimit(floor=2, ceiling=6)
    assert [limit.update(ROOM) for _ in range(6)] == [3, 4, 5, 6, 6, 6]


def test_nothing_held_back_by_the_limit_means_no_growth():
    # The hosts' own limits (or a short list) keep checks back: more slots would sit idle.
    limit = AdaptiveLimit(floor=16, ceiling=256)
    assert [limit.update(Sample(busy=0.0, held_back=False)) for _ in range(5)] == [16] * 5


def test_between_room_and_saturation_the_limit_holds():
    limit = AdaptiveLimit(floor=16, ceiling=256)
    for _ in range(5):
        limit.update(ROOM)
    assert limit.value == 47
    middle = (BUSY_LOW + BUSY_HIGH) / 2
    assert [limit.update(Sample(busy=middle, held_back=True)) for _ in range(3)] == [47] * 3
    # The thresholds themselves: at BUSY_LOW it still grows, at BUSY_HIGH it shrinks.
    assert limit.update(Sample(busy=BUSY_LOW, held_back=True)) == 58
    assert limit.update(Sample(busy=BUSY_HIGH, held_back=True)) == 43


def test_a_saturated_cpu_shrinks_the_limit_by_a_quarter_down_to_the_floor():
    limit = AdaptiveLimit(floor=16, ceiling=256)
    for _ in range(13):
        limit.update(ROOM)
    assert limit.value == 256
    steps = [limit.update(SATURATED) for _ in range(12)]
    assert steps == [192, 144, 108, 81, 60, 45, 33, 24, 18, 16, 16, 16]
    # Saturated whether or not anything waits: fewer checks at once is the only remedy.
    assert limit.update(Sample(busy=1.0, held_back=False)) == 16


def test_a_ceiling_below_the_floor_leaves_a_fixed_limit():
    limit = AdaptiveLimit(floor=16, ceiling=8)
    assert (limit.floor, limit.ceiling, limit.value) == (16, 16, 16)
    governor = Governor(floor=16)
    for _ in range(10):
        governor.decide(ROOM)
    work = Blocking()
    run = pool(work, items(hosts=20, each=1), ceiling=8, governor=governor)
    thread, results = consume_in_background(run)
    wait_until(lambda: work.now() == 8, "8 at once")
    assert run.limit() == 8 and run.counts()["threads"] == 8
    work.release.set()
    thread.join()
    assert len(results) == 20 and work.most_at_once == 8


# -- the pacer, on an injected clock ------------------------------------------------------


class SteppedClock:
    """Time moves only when the pacer sleeps; each sleep lasts TICK plus what the test
    scripts (`tick()`), and blocks until the test scripted it."""

    def __init__(self):
        self.now = 0.0
        self.entered = 0  # sleeps the pacer has begun (it finished all earlier ticks)
        self.oversleep: queue.Queue[float] = queue.Queue()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.entered += 1
        self.now += seconds + self.oversleep.get(timeout=60)

    def tick(self, oversleep: float) -> None:
        """Let the pacer wake once, `oversleep` late, and wait until it has dealt with it
        (it has begun its next sleep)."""
        entered = self.entered
        self.oversleep.put(oversleep)
        wait_until(lambda: self.entered > entered, "the pacer's tick")


def one_interval(clock: SteppedClock, governor: Governor, late_share: float) -> tuple:
    """Script wake-ups, `late_share` of them late, until the pacer decides once more."""
    wait_until(lambda: clock.entered > 0, "the pacer asleep")
    decided = len(governor.history)
    ticks = 0
    while len(governor.history) == decided:
        ticks += 1
        late = (ticks * late_share) % 1 < late_share  # spread evenly over the interval
        clock.tick(2 * LATE if late else LATE / 10)
    # One decision per INTERVAL of the pacer's clock: about INTERVAL / TICK wake-ups.
    assert INTERVAL / (TICK + 2 * LATE) <= ticks <= INTERVAL / TICK + 1
    return governor.history[-1]


def test_the_pacer_grows_the_limit_while_wake_ups_are_punctual_and_checks_are_held_back():
    clock = SteppedClock()
    governor = Governor(floor=4, clock=clock.clock, sleep=clock.sleep)
    work = Blocking()
    run = pool(work, items(hosts=40, each=1), ceiling=12, governor=governor)
    thread, results = consume_in_background(run)
    wait_until(lambda: work.now() == 4, "the floor's 4 checks running")
    seen = []
    for _ in range(5):
        sample, value = one_interval(clock, governor, late_share=0.1)
        seen.append(value)
        assert sample.busy == pytest.approx(0.1, abs=0.05) and sample.held_back, sample
        # The pool follows the limit: as many running (and threads) as it allows.
        wait_until(lambda value=value: work.now() == value, f"{value} checks running")
        assert run.counts()["threads"] == value
    assert seen == [5, 6, 7, 8, 10]

    # Now the CPU is saturated: the limit comes down, no new check starts until the
    # running ones are under it, and surplus threads retire.
    sample, value = one_interval(clock, governor, late_share=0.9)
    assert sample.busy == pytest.approx(0.9, abs=0.05), sample
    assert value == 7
    started_before = len(work.started)
    work.release.set()
    thread.join()
    assert len(results) == 40 and work.most_at_once == 10
    assert started_before == 10  # nothing started between the shrink and the release
    assert run.peak_threads == 10
    stop_pacer(clock, governor)


def stop_pacer(clock: SteppedClock, governor: Governor) -> None:
    """The runs are over: one more wake-up and the pacer sees none and ends."""
    pacer = governor._pacer
    if pacer is not None:
        clock.oversleep.put(0.0)
        pacer.join(timeout=20)
        assert not pacer.is_alive()


def test_the_pacer_stops_when_no_run_is_left_and_starts_again_with_the_next():
    clock = SteppedClock()
    governor = Governor(floor=2, clock=clock.clock, sleep=clock.sleep)
    for _ in range(2):
        work = Blocking()
        run = pool(work, items(hosts=3, each=1), ceiling=3, governor=governor)
        thread, results = consume_in_background(run)
        wait_until(lambda governor=governor: governor._pacer is not None, "a pacer")
        work.release.set()
        thread.join()
        stop_pacer(clock, governor)
        assert governor._pacer is None
        assert len(results) == 3


# -- the pool ----------------------------------------------------------------------------


def test_every_item_comes_back_once_and_a_failing_one_as_its_error():
    def work(item):
        if item[1] == 3:
            raise RuntimeError("boom")
        return item

    things = items(hosts=5, each=6)
    results = list(pool(work, things, ceiling=8))
    errors = [r for r in results if r[0] == "error"]
    assert errors == [("error", "RuntimeError")] * 5
    assert sorted(r for r in results if r[0] != "error") == sorted(i for i in things if i[1] != 3)


def test_never_more_than_the_per_host_limit_on_one_host_however_high_the_limit():
    work = Blocking()
    run = pool(work, items(hosts=3, each=20), ceiling=256, per_host=2, governor=Governor(64))
    assert run.limit() == 64
    thread, results = consume_in_background(run)
    wait_until(lambda: work.now() == 6, "two checks on each of the three hosts")
    counts = run.counts()
    # The hosts bind, not the limit: no thread was started to wait for a host.
    assert (counts["running"], counts["threads"]) == (6, 6)
    work.release.set()
    thread.join()
    assert len(results) == 60
    assert work.most_on_host == 2 and run.peak_on_one_host == 2
    assert run.peak_threads <= 6


def test_a_busy_host_does_not_hold_a_slot_another_host_could_use():
    work = Blocking()
    things = [("a", 1), ("a", 2), ("a", 3), ("b", 1)]
    run = pool(work, things, ceiling=2, per_host=1)
    thread, _ = consume_in_background(run)
    wait_until(lambda: work.now() == 2, "two checks running")
    assert sorted(work.started) == [("a", 1), ("b", 1)]
    work.release.set()
    thread.join()


def test_hosts_take_turns():
    order = []
    lock = threading.Lock()

    def work(item):
        with lock:
            order.append(item[0])
        return item

    list(pool(work, [("a", n) for n in range(6)] + [("b", 0), ("c", 0)], ceiling=1))
    assert order[:3] == ["a", "b", "c"]


def test_results_waiting_for_a_slow_writer_are_bounded_and_hold_back_new_checks():
    def work(item):
        return item

    run = pool(work, items(hosts=50, each=2), ceiling=4)
    results = iter(run)
    first = next(results)
    # The writer now stops: 4 results may wait, 4 more checks may finish and wait for
    # room; nothing else starts.
    wait_until(
        lambda: run.counts()["waiting"] == 4 and run.counts()["running"] == 4,
        "the pool stalled behind the writer",
    )
    counts = run.counts()
    assert counts["unstarted"] == 100 - 1 - 4 - 4
    assert counts["threads"] <= 4
    rest = list(results)
    assert len([first, *rest]) == 100
    assert run.peak_results_waiting == 4 and run.peak_running == 4


def test_leaving_early_starts_nothing_more_and_waits_for_what_runs():
    release = threading.Event()
    started = []
    lock = threading.Lock()

    def work(item):
        with lock:
            started.append(item)
        if item != ("host-0", 0):
            release.wait(timeout=60)
        return item

    run = pool(work, items(hosts=10, each=3), ceiling=5, name="leaving")
    results = iter(run)
    assert next(results) == ("host-0", 0)
    wait_until(lambda: run.counts()["running"] == 5, "five running, blocked")
    pool_threads = [t for t in threading.enumerate() if t.name.startswith("leaving-")]
    assert len(pool_threads) == 5
    # The caller leaves (storing failed, a task's soft time limit): close() waits for the
    # checks that run, so it runs in a thread until they are released.
    closer = threading.Thread(target=results.close)
    closer.start()
    wait_until(lambda: run.counts()["closing"], "the pool closing")
    assert closer.is_alive()  # still waiting: five checks are running
    release.set()
    closer.join(timeout=60)
    assert not closer.is_alive()
    assert all(not t.is_alive() for t in pool_threads)
    assert len(started) == 6  # the first, then five; none after the caller left
    assert run.counts()["threads"] == 0


def test_a_one_endpoint_run_is_not_starved_by_a_large_run_in_the_same_process():
    # "Check now" in a process that also runs a round: each run has its own slots.
    governor = Governor(floor=4)
    big_work = Blocking()
    big = pool(big_work, items(hosts=50, each=4), ceiling=4, governor=governor)
    thread, _ = consume_in_background(big)
    wait_until(lambda: big_work.now() == 4, "the round holds all its slots")
    alone = list(pool(lambda item: ("done", item), [("solo", 0)], ceiling=1, governor=governor))
    assert alone == [("done", ("solo", 0))]
    assert big_work.now() == 4 and len(big_work.started) == 4  # the round is still held
    big_work.release.set()
    thread.join()


def test_results_that_finish_together_come_in_batches_for_the_writer():
    release = threading.Event()

    def work(item):
        if item != ("host-0", 0):
            release.wait(timeout=60)
        return item

    run = pool(work, items(hosts=10, each=1), ceiling=10)
    batches = run.batches(most=4)
    received = [next(batches)]  # only the first could finish
    release.set()
    wait_until(lambda: run.counts()["waiting"] == 9, "the nine others finished")
    received += list(batches)
    assert [len(batch) for batch in received] == [1, 4, 4, 1]
    assert sorted(r for batch in received for r in batch) == sorted(items(hosts=10, each=1))
