"""scripts/run-at-date.sh, behind `make test-future`: the wall clock moves for the command
and its subprocesses, and sleeps and timed waits still last what they say."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The wall clock, a sleep and a timed wait in a thread, then a Python subprocess's clock.
PROBE = """
import subprocess, sys, threading, time
started = time.monotonic()
time.sleep(0.2)
waited = threading.Thread(target=threading.Event().wait, args=(0.2,))
waited.start()
waited.join(10)
child = subprocess.run([sys.executable, "-c", "import time; print(time.time())"],
                       capture_output=True, text=True, check=True)
print(time.time(), time.monotonic() - started, waited.is_alive(), child.stdout.strip())
"""


def _probe(*wrapper: str) -> list[str]:
    # Outside any libfaketime of this run (under `make test-future` this test runs too).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAKETIME", "LD_PRELOAD"))}
    done = subprocess.run(
        [*wrapper, sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()[-1].split()  # after the line run-at-date.sh prints


def test_the_clock_moves_for_the_command_and_its_children_and_waits_keep_their_length():
    if shutil.which("faketime") is None:
        pytest.fail("faketime is missing: `make test` installs Debian's faketime")
    real_now = float(_probe()[0])
    moved_now, elapsed, still_waiting, child_now = _probe("scripts/run-at-date.sh", "+400 days")

    assert abs(float(moved_now) - real_now - 400 * 86400) < 60
    assert abs(float(child_now) - float(moved_now)) < 60  # one offset for the whole tree
    assert 0.4 <= float(elapsed) < 10 and still_waiting == "False"
