"""Check throughput: N targets over a few real MariaDB servers, in-process or through Celery.

    .venv/bin/python bench/check_throughput.py --targets 1000 [--mode inprocess|celery]
        [--workers 2] [--servers 6] [--broker redis|rabbitmq]

Each target is a DBInstance with its own name (verified against a wildcard certificate)
whose connect override points at one of --servers `mariadbd`s, each on its own loopback
address (127.0.0.2, .3, …), so the checker's per-host limit applies as it would against that
many hosts. Every check is the real thing: probe handshakes, then a VERIFY_IDENTITY login.

inprocess: `run_checks` in this process on SQLite, the embedded default (TLSPOSTURE_WORKERS
threads). celery: a throwaway PostgreSQL database, the broker on loopback, and --workers
worker processes (prefork, concurrency 1 each) taking batches from one zone queue; the time
runs from queueing to the last observation. Prints wall time, targets/s, handshakes, how the
checks ended and peak memory. Figures only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
    args = parser.parse_args()

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
                )
                for n in range(args.servers)
            ]
            with Fleet(specs, base_dir=data_dir / "fleet") as fleet:
                _bench(args, fleet, bundle, database_url, data_dir)
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


def _bench(args, fleet: Fleet, bundle: Path, database_url: str, data_dir: Path) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    zone = f"bench-{secrets.token_hex(3)}"
    passwords = _world(args.targets, fleet, bundle, zone)
    print(
        f"{args.targets:,} targets on {len(list(fleet))} MariaDB servers "
        f"({', '.join(s.host for s in fleet)}), mode {args.mode}, "
        f"database {'SQLite' if args.mode == 'inprocess' else 'PostgreSQL'}"
    )
    if args.mode == "inprocess":
        seconds, peak = _in_process()
    else:
        seconds, peak = _through_celery(args, zone, passwords, database_url, data_dir)
    _report(args.targets, seconds, peak)


def _world(targets: int, fleet: Fleet, bundle: Path, zone: str) -> dict[str, str]:
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
        server = servers[n % len(servers)]
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
                connect_host=server.host,
                connect_port=server.port,
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


def _in_process() -> tuple[float, float]:
    from checker.services import run_checks
    from checker.targets import checkable_instances

    started = time.perf_counter()
    run_checks(checkable_instances(), trigger="bench")
    seconds = time.perf_counter() - started
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _through_celery(args, zone, passwords, database_url, data_dir) -> tuple[float, float]:
    from checker.models import Observation
    from checker.targets import checkable_instances
    from checker.tasks import enqueue_checks
    from common.queues import zone_queue

    env = {**os.environ, **passwords, "DATABASE_URL": database_url}
    workers = [
        CeleryWorker(f"bench{n}-{zone}", [zone_queue(zone)], env, data_dir)
        for n in range(args.workers)
    ]
    try:
        for worker in workers:
            worker.start()
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
        peak = sum(_peak_mb_of_tree(w.process.pid) for w in workers)
    finally:
        for worker in workers:
            worker.stop()
        _empty_queue(zone_queue(zone))
    return seconds, peak


def _report(targets: int, seconds: float, peak_mb: float) -> None:
    from django.db.models import Count

    from checker.models import CheckRun, Observation

    statuses = dict(Observation.objects.values_list("status").annotate(n=Count("pk")))
    handshakes = sum(
        (evidence.get("probe") or {}).get("handshakes", 0)
        for evidence in Observation.objects.values_list("evidence", flat=True).iterator()
    )
    runs = CheckRun.objects.count()
    print(f"checked {targets:,} targets in {seconds:.1f} s: {targets / seconds:.1f} targets/s")
    print(f"observations: {', '.join(f'{n:,} {s}' for s, n in sorted(statuses.items()))}")
    print(
        f"handshakes: {handshakes:,} ({handshakes / targets:.1f} per target), {runs} check run(s)"
    )
    print(f"peak memory (RSS) of the checking process(es): {peak_mb:.0f} MB")


def _peak_mb_of_tree(pid: int) -> float:
    """Peak RSS of a worker's main process plus its pool children (VmHWM, MB)."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total = 0.0
    for each in pids:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
    return total


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
