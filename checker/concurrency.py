"""How many checks run at once (docs/design.md "Checker rules" 5: bounded globally and per host).

A check is about a dozen sequential connections of several round trips each, and costs
about 20 ms of this process's CPU wherever the endpoint is (bench/check_throughput.py, two
loaded cores). On loopback that CPU is most of its time; against endpoints 100 ms away it
waits four to six seconds on the network. No fixed number of checks at once fits both: the
16 that keep the CPU busy on loopback leave a remote fleet's round taking most of an hour
(3.7 checks/s at 100 ms RTT), while the hundreds a remote fleet needs queue the checks
for the CPU and stretch every check's timeouts. So the limit adapts, per process, like an
autoscaler that keeps a target utilisation:

- it starts at FLOOR, the fixed default it replaces, and never goes below it;
- each second in which checks were held back by it (not by their hosts' limits) while the
  CPU had room, it grows by a quarter, up to the ceiling (TLSPOSTURE_WORKERS);
- each second in which the CPU was saturated, it shrinks by a quarter.

"Room" and "saturated" come from a pacer thread that sleeps 10 ms at a time and counts how
often it wakes late (by LATE or more): a waking thread needs a free core and the
interpreter lock, as every check does after each network read, so the share of late
wake-ups is the share of moments at which a check that could continue had to queue for
the CPU. Under BUSY_LOW the CPU has room; over BUSY_HIGH it is saturated. This sees the
interpreter lock and the machine's other load, and needs no knowledge of the cores.
Measured with `bench/check_throughput.py --fixed N` (README "Performance"): at 100 ms RTT
64/128/256 checks at once woke late 26/37/47 % of the time while throughput rose (12/21/27
checks/s), and 384 at once fell back to 17 checks/s, each check stretched from 4.4 to 21 s;
on loopback 12/32/64 at once woke late 52/69/64 % while throughput fell (45/40/42 checks/s)
and each check stretched from 0.23 to 0.99 s.

The limit is one per process (`governor()`): a Celery worker process keeps what it learned
from one batch for the next, and runs side by side in one process see each other's load.
Each run keeps its own slots, so a run of one endpoint ("check now") never waits behind a
large round in the same process.

`BoundedRun` is the pool: worker threads pull the next endpoint whose host is below the
per-host limit (a thread never holds a slot while it waits for a host), hand results to the
calling thread, which alone writes them, and stop pulling when the results pile up (the
writer is behind). Threads, checks in flight and results waiting are all bounded by the
limit. Pure module: no Django.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

FLOOR = 16  # the fixed default this replaces; it keeps the CPU busy on loopback
GROWTH = 1.25
SHRINK = 0.75
TICK = 0.01  # how long the pacer sleeps per sample
LATE = 0.001  # a wake-up this much later than asked for found the CPU busy
BUSY_LOW = 0.45  # share of late wake-ups under which the CPU has room
BUSY_HIGH = 0.60  # share over which it is saturated
INTERVAL = 1.0  # how often the limit is reconsidered

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Sample:
    """One interval as the pacer saw it."""

    busy: float  # share of wake-ups that came LATE or later: 0.0 idle … 1.0 saturated
    held_back: bool  # a check was ready to start (its host had room) but the limit was full


class AdaptiveLimit:
    """The decision alone: the next limit from one sample. No clock, no threads."""

    def __init__(self, floor: int = FLOOR, ceiling: int = FLOOR):
        self.floor = max(1, floor)
        self.ceiling = max(self.floor, ceiling)
        self.value = self.floor

    def update(self, sample: Sample) -> int:
        if sample.busy >= BUSY_HIGH:
            self.value = int(self.value * SHRINK)
        elif sample.busy <= BUSY_LOW and sample.held_back:
            self.value = max(self.value + 1, int(self.value * GROWTH))
        self.value = max(self.floor, min(self.value, self.ceiling))
        return self.value


class Governor:
    """The process's limit, and the pacer thread that samples the CPU while runs are active.

    `clock` and `sleep` are what the pacer measures with; a test drives `decide()` directly.
    """

    def __init__(
        self,
        floor: int = FLOOR,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.limit = AdaptiveLimit(floor, floor)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._runs: set[BoundedRun] = set()
        self._pacer: threading.Thread | None = None
        self.history: deque[tuple[Sample, int]] = deque(maxlen=3600)  # for diagnostics

    @property
    def value(self) -> int:
        return self.limit.value

    def join(self, run: BoundedRun) -> None:
        with self._lock:
            self._runs.add(run)
            self.limit.ceiling = max(r.ceiling for r in self._runs)
            if self._pacer is None:
                self._pacer = threading.Thread(target=self._pace, name="check-pacer", daemon=True)
                self._pacer.start()

    def leave(self, run: BoundedRun) -> None:
        with self._lock:
            self._runs.discard(run)

    def decide(self, sample: Sample) -> int:
        """Apply one interval's sample (the pacer calls this once per INTERVAL)."""
        with self._lock:
            value = self.limit.update(sample)
            self.history.append((sample, value))
            return value

    def _pace(self) -> None:
        wakeups = late = 0
        started = self._clock()
        while True:
            with self._lock:
                if not self._runs:
                    self._pacer = None
                    return
            before = self._clock()
            self._sleep(TICK)
            now = self._clock()
            wakeups += 1
            late += now - before - TICK >= LATE
            if now - started >= INTERVAL:
                with self._lock:
                    held = [run.take_held_back() for run in self._runs]  # each resets its flag
                self.decide(Sample(late / wakeups, any(held)))
                wakeups = late = 0
                started = now


_governor = Governor()


def governor() -> Governor:
    return _governor


class BoundedRun(Generic[Item, Result]):
    """Run `work(item)` for every item on pool threads; iterate for the results, in the
    order they finish, in the calling thread.

    At most `limit()` items run at once (the governor's value, capped by `ceiling`; with a
    ceiling at or below the governor's floor it is simply `ceiling`), at most `per_host`
    per `host_of(item)`, and hosts take turns. `on_error(item, exc)` turns an exception of
    `work` into a result. Leaving the iteration early (an error while storing, a task's
    time limit) starts nothing more and waits for the checks already running.
    """

    def __init__(
        self,
        items: Iterable[Item],
        work: Callable[[Item], Result],
        *,
        host_of: Callable[[Item], Hashable],
        per_host: int,
        ceiling: int,
        on_error: Callable[[Item, Exception], Result],
        pacing: Governor | None = None,
        thread_name: str = "check",
    ):
        self.work = work
        self.host_of = host_of
        self.per_host = max(1, per_host)
        self.ceiling = max(1, ceiling)
        self.on_error = on_error
        self.thread_name = thread_name
        self._governor = pacing if pacing is not None else governor()
        self._adaptive = self.ceiling > self._governor.limit.floor
        lock = threading.Lock()
        self._can_start = threading.Condition(lock)  # idle pool threads wait here
        self._has_result = threading.Condition(lock)  # the calling thread waits here
        self._has_room = threading.Condition(lock)  # threads holding a result wait here
        self._lock = lock
        self._pending: dict[Hashable, deque[Item]] = defaultdict(deque)
        for item in items:
            self._pending[host_of(item)].append(item)
        self._ready: deque[Hashable] = deque(self._pending)  # hosts with work and room
        self._unstarted = sum(len(q) for q in self._pending.values())
        self._outstanding = self._unstarted  # not yet handed to the caller
        self._running = 0
        self._on_host: dict[Hashable, int] = defaultdict(int)
        self._results: deque[Result] = deque()
        self._threads = 0
        self._idle = 0
        self._closing = False
        self._held_back = False
        self._pool: list[threading.Thread] = []
        self._spawned = 0
        # What the run did, as counts (tests and the stored run read these).
        self.peak_running = 0
        self.peak_on_one_host = 0
        self.peak_threads = 0
        self.peak_results_waiting = 0
        self.peak_limit = 0

    def counts(self) -> dict[str, int]:
        """Now: items running, results waiting for the caller, pool threads, items not
        started, and whether the caller has left (1) or not (0)."""
        with self._lock:
            return {
                "running": self._running,
                "waiting": len(self._results),
                "threads": self._threads,
                "unstarted": self._unstarted,
                "closing": int(self._closing),
            }

    def limit(self) -> int:
        if not self._adaptive:
            return self.ceiling
        return min(self.ceiling, self._governor.value)

    # -- the calling thread ------------------------------------------------------------------

    def __iter__(self) -> Iterator[Result]:
        for batch in self.batches():
            yield from batch

    def batches(self, most: int = 1) -> Iterator[list[Result]]:
        """The results as lists of what finished while the caller was busy (1 to `most`),
        so that a writer can store them together."""
        if self._adaptive:
            self._governor.join(self)
        try:
            while True:
                with self._lock:
                    if self._outstanding == 0:
                        return
                    self._top_up()
                    if not self._results:
                        # Also wake now and then: the governor may have raised the limit.
                        self._has_result.wait(timeout=INTERVAL / 4)
                        continue
                    batch = [self._results.popleft() for _ in range(min(most, len(self._results)))]
                    self._outstanding -= len(batch)
                    self._has_room.notify(len(batch))
                yield batch
        finally:
            if self._adaptive:
                self._governor.leave(self)
            self._close()

    def _top_up(self) -> None:
        """Start threads for work that could start now, never more than the limit."""
        limit = self.limit()
        self.peak_limit = max(self.peak_limit, limit)
        startable = len(self._ready)  # each of these hosts has room for one more at least
        # Threads not running a check will take one without help: those starting, those
        # idle, and those that just finished one and are on their way back for the next.
        spare = self._threads - self._running
        wanted = min(limit - self._threads, startable - spare)
        if wanted > 0:
            # Threads retire when the limit shrinks: forget them, keep the live ones.
            self._pool = [t for t in self._pool if t.is_alive()]
        for _ in range(max(0, wanted)):
            self._spawned += 1
            thread = threading.Thread(
                target=self._worker, name=f"{self.thread_name}-{self._spawned}", daemon=True
            )
            try:
                thread.start()
            except RuntimeError:  # the process may start no more threads: go on with these
                if not self._threads:
                    raise
                log.warning("cannot start more than %s check threads", self._threads)
                break
            self._threads += 1
            self._pool.append(thread)
        self.peak_threads = max(self.peak_threads, self._threads)
        if self._idle and startable and self._running < limit:
            self._can_start.notify(min(self._idle, limit - self._running))
        if self._threads >= limit and startable > spare:
            self._held_back = True

    def _close(self) -> None:
        with self._lock:
            self._closing = True
            self._can_start.notify_all()
            self._has_room.notify_all()
        for thread in self._pool:
            thread.join()

    def take_held_back(self) -> bool:
        """Whether the limit kept a check from starting since the last call."""
        with self._lock:
            held, self._held_back = self._held_back, False
            return held

    # -- pool threads --------------------------------------------------------------------

    def _worker(self) -> None:
        while True:
            item = self._next()
            if item is None:
                return
            try:
                result = self.work(item)
            except Exception as exc:
                result = self.on_error(item, exc)
            self._finish(item, result)

    def _next(self) -> Item | None:
        with self._lock:
            while True:
                limit = self.limit()
                if self._closing or self._unstarted == 0 or self._threads > limit:
                    # Retire: nothing left to start, or the limit shrank below the pool.
                    self._threads -= 1
                    self._can_start.notify()  # another may be needed where this one was
                    return None
                if self._ready and self._running < limit:
                    return self._start_locked(limit)
                self._idle += 1
                self._can_start.wait()
                self._idle -= 1

    def _start_locked(self, limit: int) -> Item:
        host = self._ready.popleft()
        item = self._pending[host].popleft()
        self._unstarted -= 1
        self._running += 1
        self._on_host[host] += 1
        if self._pending[host] and self._on_host[host] < self.per_host:
            self._ready.append(host)  # its turn again after the other hosts
        if self._running >= limit and self._ready:
            self._held_back = True
        self.peak_running = max(self.peak_running, self._running)
        self.peak_on_one_host = max(self.peak_on_one_host, self._on_host[host])
        return item

    def _finish(self, item: Item, result: Result) -> None:
        host = self.host_of(item)
        with self._lock:
            # The writer is behind: keep this result (and its slot) until it catches up.
            while len(self._results) >= self.limit() and not self._closing:
                self._has_room.wait()
            if not self._closing:
                self._results.append(result)
                self.peak_results_waiting = max(self.peak_results_waiting, len(self._results))
                self._has_result.notify()
            self._running -= 1
            self._on_host[host] -= 1
            if self._pending[host] and self._on_host[host] == self.per_host - 1:
                self._ready.append(host)
            self._can_start.notify()
