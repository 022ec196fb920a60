"""Time and peak memory of the exports for N endpoints (default 50,000).

    .venv/bin/python bench/export.py [--instances N]

Seeds a synthetic fleet (fleet/synthetic.py: endpoints with evidence, about one open
finding each) into a throwaway SQLite database, then runs each export — instances and
findings as CSV, XLSX and JSON through the dashboard's export URLs, and `posture_report` —
in a fresh process, consuming the response as a client would. Prints seconds, rows, size
and the process's peak RSS above what it held before the export; with --traced also the
peak of Python allocations (tracemalloc, in a second, slower run). Figures only; nothing
here asserts a time.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import bench_environment, setup_django  # noqa: E402

EXPORTS = [
    ("instances", "csv"),
    ("instances", "json"),
    ("instances", "xlsx"),
    ("findings", "csv"),
    ("findings", "json"),
    ("findings", "xlsx"),
    ("posture_report", "csv"),
    ("posture_report", "json"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=50_000)
    parser.add_argument(
        "--traced", action="store_true", help="also measure Python allocations (slower)"
    )
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--export", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seconds = setup_django(args.instances)
        print(json.dumps({"seconds": seconds}))
        return 0
    if args.export:
        print(json.dumps(run_export(*args.export.split(":"), traced=args.traced)))
        return 0

    with tempfile.TemporaryDirectory(prefix="tlsposture-bench-export-") as data_dir:
        env = bench_environment(data_dir)
        env.pop("DATABASE_URL", None)  # a throwaway SQLite file
        seeded = _child(env, ["--seed-only", "--instances", str(args.instances)])
        print(f"== sqlite: {args.instances:,} endpoints seeded in {seeded['seconds']:.1f} s")
        print(
            f"{'export':28} {'seconds':>8} {'rows':>8} {'MiB out':>8} {'RSS growth MiB':>15}"
            + (f" {'traced peak MiB':>16}" if args.traced else "")
        )
        for kind, fmt in EXPORTS:
            options = ["--export", f"{kind}:{fmt}"] + (["--traced"] if args.traced else [])
            figures = _child(env, options)
            print(
                f"{kind + ' ' + fmt:28} {figures['seconds']:8.1f} {figures['rows']:8,d} "
                f"{figures['bytes'] / 2**20:8.1f} {figures['rss_growth'] / 2**20:15.1f}"
                + (f" {figures['traced_peak'] / 2**20:16.1f}" if args.traced else "")
            )
    return 0


def _child(env: dict, arguments: list[str]) -> dict:
    return run_child(__file__, env, arguments)


def run_child(script: str, env: dict, arguments: list[str]) -> dict:
    """Run `script` with `arguments` in a fresh process; its last output line is JSON."""
    result = subprocess.run(
        [sys.executable, script, *arguments],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def run_export(kind: str, fmt: str, *, traced: bool) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from inventory.models import DBInstance

    client = Client()
    user, _ = get_user_model().objects.get_or_create(username="bench", is_staff=True)
    client.force_login(user)
    DBInstance.objects.first()  # connection and caches warm before the baseline
    before = _max_rss()
    started = time.perf_counter()
    size, rows = _consume(client, kind, fmt)
    seconds = time.perf_counter() - started
    growth = _max_rss() - before
    traced_peak = 0
    if traced:
        tracemalloc.start()
        _consume(client, kind, fmt)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "seconds": seconds,
        "bytes": size,
        "rows": rows,
        "traced_peak": traced_peak,
        "rss_growth": growth,
    }


class _Sink(io.TextIOBase):
    """Standard output of posture_report: counted, not kept."""

    def __init__(self):
        self.size = 0

    def write(self, text):
        self.size += len(text.encode())
        return len(text)


def _consume(client, kind: str, fmt: str) -> tuple[int, int]:
    """(bytes received, rows exported); rows are counted in the database."""
    if kind == "posture_report":
        from django.core.management import call_command

        sink = _Sink()
        call_command("posture_report", "--format", fmt, stdout=sink)
        return sink.size, _rows("instances")
    from django.urls import reverse

    response = client.get(reverse(f"dashboard:{kind}-export", args=[fmt]))
    assert response.status_code == 200, response.status_code
    size = sum(len(piece) for piece in response.streaming_content)
    response.close()
    return size, _rows(kind)


def _rows(kind: str) -> int:
    from inventory.models import ACTIVE, DBInstance
    from posture.models import Finding

    if kind == "findings":
        return Finding.objects.filter(
            resolved_at__isnull=True, instance__gone_at__isnull=True
        ).count()
    return DBInstance.objects.filter(ACTIVE).count()


if __name__ == "__main__":
    raise SystemExit(main())
