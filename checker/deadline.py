"""The hard time limit of one target (docs/design.md "Checker rules" 5).

Every blocking step of the probe and the session asks the deadline how long it may wait,
so one slow, stalling or hostile server never holds a worker past its budget. Where a
library owns the blocking calls (PyMySQL), `guard()` shuts the socket down at the
deadline, which wakes any read or handshake blocked on it.

Pure module: no Django imports.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time


class DeadlineReached(TimeoutError):
    """The target's time is up; whatever was not asked yet stays untested."""


class Deadline:
    def __init__(self, seconds: float, *, clock=time.monotonic):
        self._clock = clock
        self.seconds = seconds
        self.ends_at = clock() + seconds

    def remaining(self) -> float:
        return self.ends_at - self._clock()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def timeout(self, limit: float) -> float:
        """How long the next blocking step may take: its own limit, capped by the deadline."""
        remaining = self.remaining()
        if remaining <= 0:
            raise DeadlineReached(f"deadline of {self.seconds:g} s reached")
        return min(limit, remaining)

    @contextlib.contextmanager
    def guard(self, sock: socket.socket):
        """Shut `sock` down when the deadline passes while the block runs.

        The watchdog holds a duplicate of the descriptor: shutdown() acts on the connection
        itself, so it also reaches the socket after a library wrapped it in TLS (wrapping
        detaches the original socket object).
        """
        remaining = self.remaining()
        if remaining <= 0:
            raise DeadlineReached(f"deadline of {self.seconds:g} s reached")
        duplicate = socket.socket(fileno=os.dup(sock.fileno()))
        fired = threading.Event()

        def cut():
            fired.set()
            with contextlib.suppress(OSError):
                duplicate.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(remaining, cut)
        timer.daemon = True
        timer.start()
        try:
            yield fired
        finally:
            timer.cancel()
            timer.join()
            duplicate.close()
