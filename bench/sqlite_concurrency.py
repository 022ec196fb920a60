"""Sync, check and evaluation loops in parallel processes, with page reads, all on SQLite.

    .venv/bin/python bench/sqlite_concurrency.py [--instances N] [--pages P] [--servers S]

What issue 13 measured: `sync_inventory`, `check_tls --all` and `evaluate_posture` each
looping in its own process while another process reads dashboard pages, on the embedded
SQLite database. Prints, per loop, its runs and exit codes; the lock errors seen in every
process's output ("database is locked"); the evaluations retried and the evaluations lost
(failed after their retries, or endpoints whose grade is older than their newest evidence
once every loop has stopped); and the page answers by status. The target is zero lock
errors, zero lost evaluations, every page 200. Figures only: nothing here asserts.

The world: a moto server (`python -m fleet.moto_server`) with N RDS instances in one region,
and S real MariaDB servers on 127.0.0.2… that the checker profiles send the endpoints to.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
LOCKED = re.compile(r"database (table )?is locked", re.IGNORECASE)
RETRIED = re.compile(r"posture evaluation of \d+ endpoint\(s\) failed")
LOST = re.compile(r"posture evaluation after .* failed")
PAGES = ("/", "/instances/", "/instances/?grade=B", "/certificates/", "/findings/", "/runs/")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=120)
    parser.add_argument("--pages", type=int, default=750)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--reader", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reader:
        return _read_pages(args.pages)

    data_dir = tempfile.TemporaryDirectory(prefix="tlsposture-bench-")
    env = _environment(data_dir.name)
    os.environ.update(env)
    _manage(env, "migrate", "--verbosity", "0")
    moto = subprocess.Popen(
        [sys.executable, "-m", "fleet.moto_server", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = moto.stdout.readline().strip()
        from fleet.moto_server import seed

        seed(
            url,
            "create_db_instances",
            account_id=ACCOUNT_ID,
            region=REGION,
            instances=[
                {"DBInstanceIdentifier": f"db-{n:04d}", "Engine": "mysql"}
                for n in range(args.instances)
            ],
        )
        with _servers(args.servers) as fleet:
            _accounts(env, data_dir.name, url, fleet)
            _manage(env, "sync_inventory")  # the endpoints exist before the loops start
            _run(env, args)
    finally:
        moto.terminate()
        moto.wait(timeout=10)
        data_dir.cleanup()
    return 0


def _environment(data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="tlsposture.settings",
        DEBUG="1",
        ALLOWED_HOSTS="testserver,127.0.0.1",
        SECRET_KEY=secrets.token_urlsafe(40),
        TLSPOSTURE_DATA_DIR=data_dir,
        LOG_LEVEL="WARNING",
        CELERY_BROKER_URL="",
        # moto accepts any key pair; this one is not a credential of anything.
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench-not-a-secret",  # noqa: S106
        AWS_CONFIG_FILE=os.path.join(data_dir, "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=os.path.join(data_dir, "no-aws-credentials"),
        PYTHONPATH=str(ROOT),
    )
    return env


def _manage(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


class _servers:
    """S MariaDB servers with a self-made certificate, on 127.0.0.2, 127.0.0.3, …"""

    def __init__(self, count: int):
        from fleet.certs import make_ca, make_server_cert
        from fleet.mariadb import Fleet, ServerSpec

        ca = make_ca("bench CA")
        specs = [
            ServerSpec(
                f"bench-{n}",
                certificate=make_server_cert([f"bench-{n}.test"], issuer=ca),
                require_secure_transport=True,
                host=f"127.0.0.{n + 2}",
            )
            for n in range(count)
        ]
        self.fleet = Fleet(specs)

    def __enter__(self):
        return list(self.fleet.start())

    def __exit__(self, *exc):
        self.fleet.stop()


def _accounts(env, data_dir: str, url: str, servers) -> None:
    """One account; profiles share the endpoints out over the servers by last digit."""
    lines = [
        "[[account]]",
        'name = "bench"',
        'provider = "aws"',
        f'regions = ["{REGION}"]',
        f'endpoint_url = "{url}"',
        "",
    ]
    digits = "0123456789"
    for n, server in enumerate(servers):
        mine = "".join(d for i, d in enumerate(digits) if i % len(servers) == n)
        lines += [
            "[[checker]]",
            f'match = "bench/db-*[{mine}]"',
            f'connect_host = "{server.host}"',
            f"connect_port = {server.port}",
            "",
        ]
    path = Path(data_dir) / "accounts.toml"
    path.write_text("\n".join(lines))
    done = _manage(env, "import_accounts", str(path))
    if done.returncode:
        raise SystemExit(done.stderr)


class _Loop(threading.Thread):
    """Runs one management command again and again, each run its own process."""

    def __init__(self, env, name: str, *args: str):
        super().__init__(name=name, daemon=True)
        self.env, self.args = env, args
        self.stop = threading.Event()
        self.exits: Counter = Counter()
        self.codes: list[int] = []
        self.output: list[str] = []
        self.seconds: list[float] = []

    def run(self):
        while not self.stop.is_set():
            started = time.perf_counter()
            done = _manage(self.env, *self.args)
            self.seconds.append(time.perf_counter() - started)
            self.exits[done.returncode] += 1
            self.codes.append(done.returncode)
            self.output.append(done.stdout + done.stderr)


def _run(env, args) -> None:
    loops = [
        _Loop(env, "sync", "sync_inventory"),
        _Loop(env, "check", "check_tls", "--all", "--workers", "8"),
        _Loop(env, "evaluate", "evaluate_posture"),
    ]
    started = time.perf_counter()
    for loop in loops:
        loop.start()
    reader = subprocess.run(
        [sys.executable, __file__, "--reader", "--pages", str(args.pages)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for loop in loops:
        loop.stop.set()
    for loop in loops:
        loop.join()
    elapsed = time.perf_counter() - started
    pages = json.loads(reader.stdout.strip().splitlines()[-1]) if reader.returncode == 0 else {}
    outputs = [text for loop in loops for text in loop.output] + [reader.stderr]
    locks = sum(len(LOCKED.findall(text)) for text in outputs)
    retried = sum(len(RETRIED.findall(text)) for text in outputs)
    lost_logged = sum(len(LOST.findall(text)) for text in outputs)
    behind = _behind(env)

    print(f"{args.instances} endpoints, {args.servers} MariaDB servers, SQLite, {elapsed:.1f} s")
    for loop in loops:
        runs = sum(loop.exits.values())
        mean = sum(loop.seconds) / len(loop.seconds) if loop.seconds else 0.0
        exits = ", ".join(f"exit {code}: {n}" for code, n in sorted(loop.exits.items()))
        print(f"  {loop.name:<9} {runs:>3} runs, {mean:5.1f} s each ({exits})")
    print(f'lock errors ("database is locked" in any output): {locks}')
    print(f"evaluations retried after a database error: {retried}")
    print(
        f"lost evaluations: {lost_logged + behind} ({lost_logged} failed after retries, "
        f"{behind} endpoints graded before their newest evidence at the end)"
    )
    answers = ", ".join(f"{status}: {n}" for status, n in sorted(pages.get("status", {}).items()))
    print(f"page answers: {sum(pages.get('status', {}).values())} pages ({answers or 'none'})")
    if pages.get("ms"):
        print(f"  page time: median {pages['ms'][0]:.0f} ms, p95 {pages['ms'][1]:.0f} ms")
    if reader.returncode:
        print(f"  reader failed: {reader.stderr[-2000:]}")
    for loop in loops:
        failed = [text for text, code in zip(loop.output, loop.codes, strict=True) if code]
        if failed:
            print(f"  {loop.name} failed {len(failed)}x; the last said: {failed[-1][-600:]}")
    problems = [line for text in outputs for line in text.splitlines() if RETRIED.search(line)]
    for line in problems[:5]:
        print(f"  retried: {line[-300:]}")


def _behind(env) -> int:
    code = (
        "import django; django.setup();"
        "from inventory.models import ACTIVE, DBInstance;"
        "from posture.models import evaluation_behind;"
        "print(DBInstance.objects.filter(ACTIVE).filter(evaluation_behind()).count())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    return int(done.stdout.strip() or -1)


def _read_pages(count: int) -> int:
    """The reader process: a logged-in staff user reads the dashboard's pages in turn."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from inventory.models import DBInstance

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    ids = list(DBInstance.objects.values_list("pk", flat=True)[:50])
    paths = [*PAGES, *(f"/instances/{pk}/" for pk in ids)]
    statuses: Counter = Counter()
    times = []
    for n in range(count):
        started = time.perf_counter()
        try:
            status = client.get(paths[n % len(paths)]).status_code
        except Exception as exc:  # an error page is an answer too: count it, keep reading
            status = type(exc).__name__
        times.append((time.perf_counter() - started) * 1000)
        statuses[str(status)] += 1
    times.sort()
    ms = [times[len(times) // 2], times[int(len(times) * 0.95)]] if times else []
    print(json.dumps({"status": statuses, "ms": ms}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
