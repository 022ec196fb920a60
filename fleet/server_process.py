"""What a test server running as its own process group does the same way, whatever it is:
a real `mariadbd` (fleet/mariadb.py) or the MySQL 8 persona (fleet/mysql8/persona.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path


class ServerProcess:
    """Needs `self.process` (the Popen, or None) and `self.dir` (where `error.log` is)."""

    process: subprocess.Popen | None
    dir: Path
    stop_timeout = 15.0

    def stop(self, timeout: float | None = None) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(self.stop_timeout if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        log = self.dir / "error.log"
        if not log.exists():
            return "(no error log)"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
