"""What a Prometheus scrape of /metrics costs at 1,000 and 10,000 endpoints.

    .venv/bin/python bench/metrics.py [--sizes 1000,10000] [--scrapes 3]

For each size: a synthetic fleet (fleet/synthetic.py, written straight into a throwaway
SQLite database), then, in a fresh process, scrapes through the real URL with the bearer
token, consuming the streamed answer as Prometheus does. Prints the median seconds per
scrape, the bytes (plain and gzip), the samples, the database queries, the process's peak
RSS growth over the scrapes and the peak of Python allocations during one scrape
(tracemalloc). Figures only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.export import _max_rss, run_child  # noqa: E402
from bench.pages import bench_environment, setup_django  # noqa: E402

TOKEN = "bench-metrics-token-0123456789abcdef"  # noqa: S105 - a throwaway database's token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--scrapes", type=int, default=3)
    parser.add_argument("--seed-only", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scrape", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        print(json.dumps({"seconds": setup_django(args.seed_only)}))
        return 0
    if args.scrape:
        print(json.dumps(scrape(args.scrapes)))
        return 0
    print(
        f"{'endpoints':>9} {'seconds':>8} {'MiB':>6} {'gzip MiB':>8} {'samples':>8} "
        f"{'queries':>7} {'RSS growth MiB':>14} {'traced peak MiB':>15}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="tlsposture-bench-metrics-") as data_dir:
            env = bench_environment(data_dir)
            env.pop("DATABASE_URL", None)
            env["TLSPOSTURE_METRICS_TOKEN"] = TOKEN
            _child(env, ["--seed-only", str(size)])
            f = _child(env, ["--scrape", "--scrapes", str(args.scrapes)])
            print(
                f"{size:9,d} {f['seconds']:8.2f} {f['bytes'] / 2**20:6.1f} "
                f"{f['gzip_bytes'] / 2**20:8.2f} {f['samples']:8,d} {f['queries']:7d} "
                f"{f['rss_growth'] / 2**20:14.1f} {f['traced_peak'] / 2**20:15.1f}"
            )
    return 0


def _child(env: dict, arguments: list[str]) -> dict:
    return run_child(__file__, env, arguments)


def _get(client) -> tuple[int, int, int]:
    """(bytes, gzip bytes, samples) of one scrape, read chunk by chunk."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.status_code
    size = samples = 0
    compressor = gzip.compress
    gz = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        gz += len(compressor(chunk, compresslevel=6))
        samples += sum(1 for line in chunk.split(b"\n") if line and not line.startswith(b"#"))
    return size, gz, samples


def scrape(scrapes: int) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from inventory.models import DBInstance

    client = Client()
    DBInstance.objects.first()  # connection warm before the baseline
    before = _max_rss()
    times, queries = [], []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    for _ in range(scrapes):
        queries.clear()
        started = time.perf_counter()
        with connection.execute_wrapper(count):
            size, gz, samples = _get(client)
        times.append(time.perf_counter() - started)
    growth = _max_rss() - before
    tracemalloc.start()
    _get(client)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "seconds": statistics.median(times),
        "bytes": size,
        "gzip_bytes": gz,  # chunk by chunk, as a streaming gzip would (close to it)
        "samples": samples,
        "queries": len(queries),
        "rss_growth": growth,
        "traced_peak": traced_peak,
    }


if __name__ == "__main__":
    sys.exit(main())
