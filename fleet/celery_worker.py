"""Real Celery workers as subprocesses, for tests and benchmarks.

Each runs in its own process group, so that one SIGKILL takes the main process and its pool
children down together, as a lost machine would; `stop()` is a warm shutdown.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class CeleryWorker:
    def __init__(
        self,
        name: str,
        queues: list[str],
        env: dict[str, str],
        log_dir: Path,
        *,
        concurrency: int = 1,
    ):
        self.name = name
        self.queues = queues
        self.env = env
        self.concurrency = concurrency
        self.log_path = log_dir / f"worker-{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def node(self) -> str:
        return f"{self.name}@{socket.gethostname()}"

    def start(self, timeout: float = 60.0) -> CeleryWorker:
        command = [
            sys.executable, "-m", "celery", "-A", "tlsposture", "worker",
            "-Q", ",".join(self.queues), "-n", self.node,
            "--pool", "prefork", "--concurrency", str(self.concurrency),
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--loglevel", "INFO",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_for_log(f"{self.node} ready.", timeout)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def took(self, task_id: str) -> bool:
        """Whether this worker received the task (Celery logs every task it receives)."""
        return f"[{task_id}] received" in self.log()

    def kill(self) -> None:
        """SIGKILL the whole worker, pool children included: no shutdown, no acks."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> None:
        """Warm shutdown; killed if it does not finish in time."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        # Pool children of a worker that exited on its own must not outlive the test.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def _wait_for_log(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited:\n{self.log()[-3000:]}")
            time.sleep(0.1)
        self.kill()
        raise AssertionError(f"worker {self.name} not ready in {timeout} s:\n{self.log()[-3000:]}")


def wait_for(condition: Callable[[], object], timeout: float, what: str, *workers: CeleryWorker):
    """Poll until `condition()` is truthy; fail naming `what`, with the workers' logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    logs = "\n".join(f"--- {w.name}\n{w.log()[-2500:]}" for w in workers)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{logs}")
