"""One demo per demo directory: a second one would fight the first over its server data."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class DemoBusy(RuntimeError):
    pass


class DemoLock:
    """An exclusive lock on `<demo dir>/demo.lock`, released when the demo ends or dies."""

    def __init__(self, directory: Path):
        self.path = directory / "demo.lock"
        self._handle = None

    def __enter__(self) -> DemoLock:
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise DemoBusy(
                f"a demo already runs in {self.path.parent} (pid {holder}); stop it first"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
