"""What reading the client connections adds to a verified session, by number of clients.

    .venv/bin/python bench/client_readout.py [--clients 0,50,150] [--repeat 20]

Starts one real MariaDB server with performance_schema ON (fleet/clients.py), opens N
application connections (a third each in plaintext, on TLS 1.2 and on TLS 1.0), and times
`read_session` R times: median and 95th percentile milliseconds of the whole session. Beside
it a server with performance_schema OFF and the same clients, where the readout is only the
counters. Figures only; the machine's other load shows in the p95.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.deadline import Deadline  # noqa: E402
from checker.secret import Login, Secret  # noqa: E402
from checker.session import SessionLimits, read_session  # noqa: E402
from fleet.clients import (  # noqa: E402
    PLAINTEXT,
    TLS10,
    TLS12,
    connect_client,
    create_app_account,
    unwatched_spec,
    watched_spec,
)
from fleet.mariadb import Fleet  # noqa: E402
from fleet.scenarios import endpoint_name, make_trust_anchors  # noqa: E402

LIMITS = SessionLimits(connect_timeout=5, read_timeout=10, write_timeout=10)


def _time_sessions(server, name: str, bundle: Path, repeat: int) -> list[float]:
    login = Login(server.checker.username, Secret(server.checker.password))
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        session = read_session(
            (server.host, server.port),
            endpoint_name(name),
            cafile=str(bundle),
            login=login,
            limits=LIMITS,
            deadline=Deadline(30),
        )
        times.append((time.perf_counter() - started) * 1000)
        assert session.outcome == "ok", session.reason
    return times


def _figures(times: list[float]) -> str:
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
    return f"median {statistics.median(times):6.1f} ms, p95 {p95:6.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="0,50,150")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    anchors = make_trust_anchors()
    with tempfile.TemporaryDirectory(prefix="tlsp-bench-") as scratch:
        bundle = Path(scratch) / "bundle.pem"
        bundle.write_bytes(anchors.bundle_pem)
        with Fleet([watched_spec(anchors), unwatched_spec(anchors)]) as fleet:
            for server in fleet:
                create_app_account(server, "bench_app", "bench-only-pw")
            opened = {"watched": [], "unwatched": []}
            kinds = (PLAINTEXT, TLS12, TLS10)
            for count in (int(n) for n in args.clients.split(",")):
                for name in ("watched", "unwatched"):
                    conns = opened[name]
                    while len(conns) < count:
                        how = kinds[len(conns) % 3]
                        source = f"127.0.{1 + len(conns) // 250}.{2 + len(conns) % 250}"
                        conns.append(
                            connect_client(
                                fleet[name], "bench_app", "bench-only-pw", how, source=source
                            )
                        )
                watched = _time_sessions(fleet["watched"], "watched", bundle, args.repeat)
                unwatched = _time_sessions(fleet["unwatched"], "unwatched", bundle, args.repeat)
                print(
                    f"{count:4d} clients: performance_schema ON (clients named) {_figures(watched)}"
                    f" | OFF (counters only) {_figures(unwatched)}"
                )
            for conns in opened.values():
                for conn in conns:
                    conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
