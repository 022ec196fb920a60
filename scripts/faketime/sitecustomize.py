"""Loaded by every Python process of `make test-future` (scripts/run-at-date.sh puts this
directory on PYTHONPATH): works around a defect of Debian's libfaketime 0.9.10.

The future run keeps the monotonic clock real (FAKETIME_DONT_FAKE_MONOTONIC=1): with it
faked, every timed wait of a lock, event or thread join hangs, because glibc's
sem_clockwait is not intercepted and waits for a deadline 400 days away on the real clock.
But 0.9.10 rewrites clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) as though the monotonic
clock were faked, so the absolute deadline turns negative and Python 3.11's time.sleep(),
which sleeps that way, fails with EINVAL (libfaketime issue #426, fixed in 0.9.11).
time.sleep here waits with select() for a relative time instead; nothing else changes.
"""

from __future__ import annotations

import os
import select
import time


def _sleep_relative(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    select.select([], [], [], seconds)  # even sleep(0) lets other threads run, as it should
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


if (
    "libfaketime" in os.environ.get("LD_PRELOAD", "")
    and os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1"
):
    time.sleep = _sleep_relative
