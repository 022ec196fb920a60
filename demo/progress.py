"""Step-by-step progress of the demo:

[3/10] certificates …
      4 demo CAs, 16 server certificates (16 reused)
      done in 0.1 s
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager

INDENT = "      "


class Steps:
    def __init__(self, total: int, out=None):
        self.total = total
        self.number = 0
        self.out = out or sys.stdout

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    @contextmanager
    def step(self, title: str):
        self.number += 1
        self._print(f"[{self.number}/{self.total}] {title} …")
        started = time.monotonic()
        yield self
        self._print(f"{INDENT}done in {time.monotonic() - started:.1f} s")

    def say(self, text: str) -> None:
        """Lines under the current step (a command's output, what was reused)."""
        for line in text.rstrip("\n").splitlines():
            self._print(f"{INDENT}{line}")
