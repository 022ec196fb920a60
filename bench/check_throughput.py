"""Check throughput: N targets over a few real MariaDB servers, in-process or through Celery.

    .venv/bin/python bench/check_throughput.py --targets 1000 [--mode inprocess|celery]
        [--workers 2] [--servers 6] [--broker redis|rabbitmq]
        [--rtt-ms 100 [--addresses 500]] [--fixed N]

Each target is a DBInstance with its own name (verified against a wildcard certificate)
whose connect override points at one of --servers `mariadbd`s, each on its own loopback
address (127.0.0.2, .3, …), so the checker's per-host limit applies as it would against that
many hosts. Every check is the real thing: probe handshakes, then a VERIFY_IDENTITY login.

--rtt-ms N puts real-world latency in between: a delaying proxy (fleet/latency.py, in a
process of its own) listens on --addresses loopback addresses (127.0.1.1, 127.0.1.2, …,
127.0.2.1, …), each forwarding to one of the servers with N/2 ms added in each direction,
and the targets dial those addresses round-robin — many hosts, as a real fleet is, so the
per-host limit does not bind the way six servers would.

inprocess: `run_checks` in this process on SQLite, the embedded default, with the default
settings (TLSPOSTURE_WORKERS); --fixed N pins the number of checks at once instead (the
sweep behind checker/concurrency.py's thresholds). celery: a throwaway PostgreSQL database,
the broker on loopback, and --workers worker processes (prefork, concurrency 1 each) taking
batches from one zone queue; the time runs from queueing to the last observation.

Prints wall time, targets/s, per-target time (median, p95), how the checks ended (and why
not, when not), handshakes, the most checks at once and the most results that waited for
the database writer, peak memory, peak threads and CPU time of the checking process(es),
in-process the adaptive limit second by second and how often a sleeping thread woke late,
the proxy's own CPU and lag, and the load average. Figures only; nothing here asserts a
time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.concurrency import LATE, TICK  # noqa: E402
from fleet import postgres  # noqa: E402
from fleet.celery_worker import CeleryWorker, wait_for  # noqa: E402
from fleet.certs import make_ca, make_server_cert  # noqa: E402
from fleet.mariadb import Fleet, ServerSpec  # noqa: E402

DOMAIN = "bench.fleet.test"
BROKERS = {"redis": "redis://127.0.0.1:6379/0", "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--mode", choices=["inprocess", "celery"], default="inprocess")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--servers", type=int, default=6, help="MariaDB servers (hosts)")
    parser.add_argument("--broker", choices=sorted(BROKERS), default="redis")
    parser.add_argument(
        "--rtt-ms", type=float, default=0, help="round-trip time added by a delaying proxy"
    )
    parser.add_argument(
        "--addresses", type=int, default=500, help="loopback addresses the proxy listens on"
    )
    parser.add_argument(
        "--fixed",
        type=int,
        metavar="N",
        help="in-process: exactly N checks at once instead of the adaptive limit (the sweep "
        "behind checker/concurrency.py's thresholds)",
    )
    args = parser.parse_args()
    if args.fixed is not None and (args.mode != "inprocess" or args.fixed < 1):
        parser.error("--fixed N needs N ≥ 1 and --mode inprocess")

    with tempfile.TemporaryDirectory(prefix="tlsposture-bench-") as tmp:
        data_dir = Path(tmp)
        database_url = _environment(args, data_dir)
        try:
            ca = make_ca("tlsposture bench CA")
            bundle = data_dir / "bundle.pem"
            bundle.write_bytes(ca.cert_pem)
            certificate = make_server_cert([f"*.{DOMAIN}"], issuer=ca)
            specs = [
                ServerSpec(
                    f"s{n}",
                    certificate=certificate,
                    require_secure_transport=True,
                    host=f"127.0.0.{n + 2}",
                    # Each server stands in for hundreds of endpoints: with hundreds of
                    # checks at once (and the proxy's delayed closes) it needs more than
                    # a test server's 200 connections. A real endpoint sees at most the
                    # per-host limit.
                    extra_options=("--max-connections=2000",),
                )
                for n in range(args.servers)
            ]
            with Fleet(specs, base_dir=data_dir / "fleet") as fleet:
                dial = _dial_plan(args, fleet, data_dir)
                try:
                    _bench(args, fleet, dial, bundle, database_url, data_dir)
                finally:
                    dial.stop()
        finally:
            if args.mode == "celery":
                postgres.drop_database(database_url)
    return 0


def _environment(args, data_dir: Path) -> str:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="tlsposture.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        TLSPOSTURE_DATA_DIR=str(data_dir),
        LOG_LEVEL="WARNING",
    )
    for name in ("DEBUG", "DATABASE_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    if args.mode == "inprocess":
        return f"sqlite:///{data_dir / 'tlsposture.sqlite3'}"
    url = postgres.create_database(postgres.LOCAL_SERVER, prefix="tlsp_bench")
    os.environ["DATABASE_URL"] = url
    os.environ["CELERY_BROKER_URL"] = BROKERS[args.broker]
    if args.broker == "redis":
        # Its own key prefix: nothing else on this Redis sees or takes these messages.
        prefix = {"global_keyprefix": f"tlsp-bench-{secrets.token_hex(4)}:"}
        os.environ["CELERY_BROKER_TRANSPORT_OPTIONS"] = json.dumps(prefix)
    return url


class _Direct:
    """No latency: each target dials its server."""

    def __init__(self, fleet: Fleet):
        self.servers = list(fleet)

    def address(self, n: int):
        server = self.servers[n % len(self.servers)]
        return server, server.host, server.port

    def describe(self) -> str:
        return "loopback, no added latency"

    def report(self, targets: int) -> None:
        pass

    def stop(self) -> None:
        pass


class _Proxied:
    """`python -m fleet.latency` in its own process, one route per loopback address."""

    def __init__(self, args, fleet: Fleet, data_dir: Path):
        self.servers = list(fleet)
        self.rtt_ms = args.rtt_ms
        hosts = [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(args.addresses)]
        self.upstream = {h: self.servers[i % len(self.servers)] for i, h in enumerate(hosts)}
        config = data_dir / "latency.json"
        routes = [[h, s.host, s.port] for h, s in self.upstream.items()]
        config.write_text(json.dumps({"rtt_ms": args.rtt_ms, "routes": routes}))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fleet.latency", str(config)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("the delaying proxy did not start")
        self.bound = {h: tuple(a) for h, a in json.loads(line).items()}
        self.hosts = hosts
        self.counts: dict = {}

    def address(self, n: int):
        host = self.hosts[n % len(self.hosts)]
        return self.upstream[host], *self.bound[host]

    def describe(self) -> str:
        return (
            f"{self.rtt_ms:g} ms RTT through a delaying proxy on {len(self.hosts)} loopback "
            f"addresses ({self.hosts[0]}–{self.hosts[-1]})"
        )

    def report(self, targets: int) -> None:
        """The proxy's own CPU so far, and what it saw (it stops to tell)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        print(f"proxy CPU: {cpu:.1f} s, {cpu / targets * 1000:.1f} ms per target")
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        out, _ = self.process.communicate(timeout=30)
        if out.strip():
            self.counts = json.loads(out.strip().splitlines()[-1])
            routes, late = self.counts["routes"], self.counts["late_ms"]
            peak = max(c["peak"] for c in routes.values())
            accepted = sum(c["accepted"] for c in routes.values())
            print(
                f"proxy: {accepted:,} connections, at most {peak} at once on one address; "
                f"chunks delivered late by median {late['median']} ms, p99 {late['p99']} ms, "
                f"max {late['max']} ms (the proxy's own lag, on top of the RTT)"
            )


def _dial_plan(args, fleet: Fleet, data_dir: Path):
    return _Proxied(args, fleet, data_dir) if args.rtt_ms > 0 else _Direct(fleet)


def _bench(args, fleet: Fleet, dial, bundle: Path, database_url: str, data_dir: Path) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    zone = f"bench-{secrets.token_hex(3)}"
    passwords = _world(args.targets, fleet, dial, bundle, zone)
    options = settings.TLSPOSTURE
    print(
        f"{args.targets:,} targets on {len(list(fleet))} MariaDB servers "
        f"({', '.join(s.host for s in fleet)}), {dial.describe()}; mode {args.mode}, "
        f"database {'SQLite' if args.mode == 'inprocess' else 'PostgreSQL'}; "
        f"TLSPOSTURE_WORKERS={options['WORKERS']}, per-host limit {options['PER_HOST_LIMIT']}"
    )
    load_before = os.getloadavg()
    if args.mode == "inprocess":
        seconds, peak = _in_process(args.fixed)
    else:
        seconds, peak = _through_celery(args, zone, passwords, database_url, data_dir)
    _report(args.targets, seconds, peak, load_before)
    dial.report(args.targets)


def _world(targets: int, fleet: Fleet, dial, bundle: Path, zone: str) -> dict[str, str]:
    from django.utils import timezone

    from checker.models import CheckerProfile
    from inventory.models import CloudAccount, DBInstance

    account = CloudAccount.objects.create(
        name="bench", provider="aws", network_zone=zone, ca_bundle=str(bundle)
    )
    servers = list(fleet)
    now = timezone.now()
    rows = []
    for n in range(targets):
        server, connect_host, connect_port = dial.address(n)
        identifier = f"{server.spec.name}-db-{n:05}"
        rows.append(
            DBInstance(
                account=account,
                provider="aws",
                region="us-east-1",
                identifier=identifier,
                resource_id=f"arn:aws:rds:us-east-1:123456789012:db:{identifier}",
                engine="mariadb",
                endpoint_host=f"db-{n:05}.{DOMAIN}",
                endpoint_port=3306,
                connect_host=connect_host,
                connect_port=connect_port,
                first_seen=now,
                last_seen=now,
            )
        )
    DBInstance.objects.bulk_create(rows, batch_size=1000)
    passwords = {}
    for server in servers:
        variable = f"TLSPOSTURE_CRED_BENCH_CHECKER_PW_{server.spec.name.upper()}"
        passwords[variable] = server.checker.password
        CheckerProfile.objects.create(
            name=server.spec.name,
            match=f"bench/{server.spec.name}-*",
            username=server.checker.username,
            password_env=variable,
        )
    os.environ.update(passwords)
    return passwords


def _in_process(fixed: int | None) -> tuple[float, _Peaks]:
    from checker.concurrency import AdaptiveLimit, governor
    from checker.services import run_checks
    from checker.targets import checkable_instances

    if fixed:  # a floor as high as the ceiling: the limit cannot move
        governor().limit = AdaptiveLimit(floor=fixed, ceiling=fixed)
    stats = _RunStats()
    with _Peaks(lambda: [os.getpid()], wakeups=True) as peaks, stats.listening():
        started = time.perf_counter()
        run_checks(checkable_instances(), trigger="bench", workers=fixed)
        seconds = time.perf_counter() - started
    _show_pacing()
    stats.show()
    return seconds, peaks


class _RunStats:
    """The pool's own figures, from the line run_checks logs at the end of each run."""

    PATTERN = re.compile(r"at most (\d+) checks at once .* at most (\d+) results waiting")

    def __init__(self):
        self.at_once: list[int] = []
        self.waiting: list[int] = []

    @contextlib.contextmanager
    def listening(self):
        stats = self

        class Handler(logging.Handler):
            def emit(self, record):
                stats.read(record.getMessage())

        logger = logging.getLogger("checker.services")
        handler, level = Handler(), logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            yield self
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)

    def read(self, text: str) -> None:
        for at_once, waiting in self.PATTERN.findall(text):
            self.at_once.append(int(at_once))
            self.waiting.append(int(waiting))

    def show(self) -> None:
        if self.at_once:
            print(
                f"pool: at most {max(self.at_once)} checks running at once in a run, at most "
                f"{max(self.waiting)} results waiting for the database writer"
            )


def _show_pacing() -> None:
    """The limit as the governor moved it, one figure per second (checker/concurrency.py)."""
    from checker.concurrency import governor

    history = list(governor().history)
    if not history:
        return
    limits = " ".join(str(value) for _, value in history)
    busy = sorted(sample.busy for sample, _ in history)
    print(f"limit per second: {limits}")
    print(
        f"share of late wake-ups per second: min {busy[0]:.2f}, "
        f"median {statistics.median(busy):.2f}, max {busy[-1]:.2f}"
    )


def _through_celery(args, zone, passwords, database_url, data_dir) -> tuple[float, float]:
    from checker.models import Observation
    from checker.targets import checkable_instances
    from checker.tasks import enqueue_checks
    from common.queues import zone_queue

    # INFO: run_checks logs its pool's figures at the end of each batch (see _RunStats).
    env = {**os.environ, **passwords, "DATABASE_URL": database_url, "LOG_LEVEL": "INFO"}
    workers = [
        CeleryWorker(f"bench{n}-{zone}", [zone_queue(zone)], env, data_dir)
        for n in range(args.workers)
    ]
    try:
        for worker in workers:
            worker.start()
        pids = [p for w in workers for p in _tree(w.process.pid)]
        with _Peaks(lambda: pids) as peaks:
            started = time.perf_counter()
            batches = enqueue_checks(checkable_instances(), trigger="bench")
            print(f"queued {len(batches)} batches on {zone_queue(zone)} for {args.workers} workers")
            wait_for(
                lambda: Observation.objects.count() >= args.targets,
                args.targets,  # generous: a second per target
                "every target's observation",
                *workers,
            )
            seconds = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.stop()
        _empty_queue(zone_queue(zone))
    stats = _RunStats()
    for worker in workers:
        stats.read(worker.log())
    stats.show()
    return seconds, peaks


def _report(targets: int, seconds: float, peaks: _Peaks, load_before) -> None:
    from django.db.models import Count, Max

    from checker.models import CheckRun, Observation

    statuses = dict(Observation.objects.values_list("status").annotate(n=Count("pk")))
    handshakes = sum(
        (evidence.get("probe") or {}).get("handshakes", 0)
        for evidence in Observation.objects.values_list("evidence", flat=True).iterator()
    )
    durations = sorted(Observation.objects.values_list("duration_ms", flat=True))
    runs = CheckRun.objects.aggregate(n=Count("pk"), most=Max("workers"))
    print(f"checked {targets:,} targets in {seconds:.1f} s: {targets / seconds:.1f} targets/s")
    print(f"  → 10,000 endpoints in {10_000 / (targets / seconds) / 60:.1f} min at this rate")
    print(
        f"per target: median {statistics.median(durations) / 1000:.2f} s, "
        f"p95 {durations[int(0.95 * (len(durations) - 1))] / 1000:.2f} s, "
        f"max {durations[-1] / 1000:.2f} s"
    )
    print(f"observations: {', '.join(f'{n:,} {s}' for s, n in sorted(statuses.items()))}")
    failures = (
        Observation.objects.exclude(status="ok")
        .values_list("reason")
        .annotate(n=Count("pk"))
        .order_by("-n")[:5]
    )
    for reason, n in failures:
        print(f"  {n:,} × {reason}")
    print(
        f"handshakes: {handshakes:,} ({handshakes / targets:.1f} per target), "
        f"{runs['n']} check run(s), at most {runs['most']} checks at once in a run"
    )
    print(
        f"peak memory (RSS) of the checking process(es): {peaks.memory_mb:.0f} MB; "
        f"peak threads: {peaks.threads}"
    )
    print(
        f"CPU of the checking process(es): {peaks.cpu_seconds:.1f} s, "
        f"{peaks.cpu_seconds / targets * 1000:.1f} ms per target "
        f"({peaks.cpu_seconds / seconds:.2f} cores on average)"
    )
    if peaks.wakeups:
        print(
            f"late wake-ups in the checking process: {peaks.late_share:.0%} of its "
            f"{TICK * 1000:g} ms sleeps woke {LATE * 1000:g} ms or more late"
        )
    load_after = os.getloadavg()
    print(
        f"load average before/after: {load_before[0]:.1f}/{load_after[0]:.1f} "
        f"(1 min), {load_after[1]:.1f} (5 min), on {os.cpu_count()} cores"
    )


class _Peaks:
    """Peak RSS (VmHWM) and peak thread count of the checking processes, sampled from
    /proc every 50 ms while the checks run, and the CPU time they used. With `wakeups`
    (in-process) the sampler sleeps TICK at a time and counts how often it woke LATE or
    later, as checker/concurrency.py's pacer does — also when the limit is --fixed."""

    def __init__(self, pids, *, wakeups: bool = False):
        self.pids = pids
        self.memory_mb = 0.0
        self.threads = 0
        self.cpu_seconds = 0.0
        self.wakeups = 0
        self.late = 0
        self._count_wakeups = wakeups
        self._cpu_before = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @property
    def late_share(self) -> float:
        return self.late / self.wakeups if self.wakeups else 0.0

    def __enter__(self) -> _Peaks:
        self._cpu_before = self._cpu()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self._take()
        self.cpu_seconds = self._cpu() - self._cpu_before

    def _sample(self) -> None:
        tick = TICK if self._count_wakeups else 0.05
        ticks = 0
        while True:
            before = time.monotonic()
            if self._stop.wait(tick):
                return
            ticks += 1
            if self._count_wakeups:
                self.wakeups += 1
                self.late += time.monotonic() - before - tick >= LATE
            if ticks * tick >= 0.05:
                ticks = 0
                self._take()

    def _cpu(self) -> float:
        """utime + stime of the processes (all their threads), seconds."""
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def _take(self) -> None:
        memory, threads = 0.0, 0
        for pid in self.pids():
            status = _status(pid)
            memory += int(status.get("VmHWM", "0 kB").split()[0]) / 1024
            threads += int(status.get("Threads", "0"))
        self.memory_mb = max(self.memory_mb, memory)
        self.threads = max(self.threads, threads)


def _status(pid: int) -> dict[str, str]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def _tree(pid: int) -> list[int]:
    """A worker's main process plus its pool children."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [pid, *(int(p) for p in children.read_text().split())]
    except OSError:
        return [pid]


def _empty_queue(queue: str) -> None:
    from tlsposture.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(queue=queue)
    prefix = app.conf.broker_transport_options.get("global_keyprefix")
    if prefix:  # Redis: the bindings and bookkeeping keys under this run's prefix, too
        import redis

        client = redis.Redis.from_url(app.conf.broker_url)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)


if __name__ == "__main__":
    sys.exit(main())
