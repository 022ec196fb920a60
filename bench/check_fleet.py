"""Benchmark: probe + session against every fleet scenario; prints figures.

    .venv/bin/python bench/check_fleet.py [--rounds N] [--workers N] [--mysql8]

`--mysql8`: the MySQL 8 persona scenarios (fleet/mysql8/scenarios.py) instead of MariaDB,
and how long the personas took to start.

Per scenario: handshakes used, probe and session time. Then throughput of `rounds` passes
over the whole fleet through a thread pool (all targets share one dial host here, so the
per-host limit is left out: this measures the checker, not the limit).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checker.endpoint import CheckLimits, Endpoint, check_endpoint
from checker.secret import Login, Secret
from fleet.mariadb import Fleet
from fleet.mysql8.scenarios import build_mysql8_specs
from fleet.scenarios import build_specs, endpoint_name, make_trust_anchors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--mysql8", action="store_true", help="the MySQL 8 persona scenarios")
    args = parser.parse_args()
    if args.mysql8:
        anchors = make_trust_anchors()
        specs = build_mysql8_specs(anchors)
    else:
        anchors, specs = build_specs()
    starting = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tlsp-bench-") as tmp, Fleet(specs) as fleet:
        print(f"{len(specs)} servers started in {time.monotonic() - starting:.2f} s")
        bundle = Path(tmp) / "bundle.pem"
        bundle.write_bytes(anchors.bundle_pem)
        endpoints = [
            Endpoint(
                instance_id=i,
                label=server.spec.name,
                dial_host=server.host,
                dial_port=server.port,
                verify_name=endpoint_name(server.spec.name),
                cafile=str(bundle),
                login=Login(server.checker.username, Secret(server.checker.password)),
            )
            for i, server in enumerate(fleet)
        ]
        limits = CheckLimits()
        width = max(12, *(len(s.name) for s in specs))
        print(f"{'scenario':<{width}} {'status':<11} {'handshakes':>10} {'probe ms':>9} "
              f"{'session ms':>10} {'total ms':>9}")  # fmt: skip
        for endpoint in endpoints:
            result = check_endpoint(endpoint, limits)
            evidence = result.evidence
            print(
                f"{endpoint.label:<{width}} {result.status:<11} {evidence.probe.handshakes:>10} "
                f"{evidence.probe.elapsed_ms:>9} {evidence.session.elapsed_ms:>10} "
                f"{result.duration_ms:>9}"
            )
        durations = []
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            for result in pool.map(lambda e: check_endpoint(e, limits), endpoints * args.rounds):
                durations.append(result.duration_ms)
        took = time.monotonic() - started
        checks = len(durations)
        print(
            f"\n{checks} checks with {args.workers} workers in {took:.2f} s: "
            f"{checks / took:.1f} targets/s, per target median "
            f"{statistics.median(durations):.0f} ms, max {max(durations)} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
