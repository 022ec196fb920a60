"""`python -m demo --no-serve` (what `make demo` runs before serving) sets up and reuses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _demo(tmp_path: Path) -> str:
    env = {**os.environ, "TLSPOSTURE_DEMO_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "demo", "--no-serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout


def test_demo_creates_an_admin_once_and_reuses_the_database(tmp_path):
    first = _demo(tmp_path)
    password = re.search(r"created admin user 'admin' with password: (\S+)", first)
    assert password, first
    assert (tmp_path / "tlsposture.sqlite3").exists()
    second = _demo(tmp_path)
    assert "admin user 'admin' exists" in second
    assert password.group(1) not in second
