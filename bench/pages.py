"""Server time and queries per dashboard page for a fleet of N endpoints (default 10,000).

    .venv/bin/python bench/pages.py [--instances N] [--repeat R] [--team GLOB]

Seeds a synthetic fleet (fleet/synthetic.py) into a throwaway SQLite database, and — when
DATABASE_URL names a PostgreSQL server — into a throwaway database there too, then renders
every page R times through Django's test client with production settings (DEBUG off,
collected static files). Prints median and 95th percentile milliseconds and the query count
per page. Figures only; nothing here asserts a time. As a staff user (the whole fleet), or
with `--team GLOB` as a non-staff member of a team granted the accounts matching GLOB (the
team rule's cost: README "Access").
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--team", help="render as a team member granted this account glob")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend:
        return run_backend(args)
    backends = [("sqlite", None)]
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        backends.append(("postgres", url))
    for backend, database_url in backends:
        with throwaway_database(backend, database_url) as env:
            command = [sys.executable, __file__, "--backend", backend]
            command += ["--instances", str(args.instances), "--repeat", str(args.repeat)]
            command += ["--team", args.team] if args.team else []
            subprocess.run(command, env=env, cwd=ROOT, check=True)
    return 0


class throwaway_database:
    """An environment for a child process: its own data dir, SQLite file or PG database."""

    def __init__(self, backend: str, database_url: str | None):
        self.backend, self.url = backend, database_url
        self.tmp = tempfile.TemporaryDirectory(prefix="tlsposture-bench-pages-")
        self.pg_name = f"tlsposture_bench_{os.getpid()}"

    def __enter__(self) -> dict:
        env = bench_environment(self.tmp.name)
        env.pop("DATABASE_URL", None)
        if self.backend == "postgres":
            _pg_admin(self.url, f'CREATE DATABASE "{self.pg_name}"')
            env["DATABASE_URL"] = _with_database(self.url, self.pg_name)
        return env

    def __exit__(self, *exc):
        if self.backend == "postgres":
            _pg_admin(self.url, f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
        self.tmp.cleanup()


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def _pg_admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(statement)


def bench_environment(data_dir: str) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tlsposture.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        TLSPOSTURE_DATA_DIR=data_dir,
        STATIC_ROOT=os.path.join(data_dir, "static"),
        LOG_LEVEL="WARNING",
    )
    return env


def setup_django(instances: int, step: int = 5000) -> float:
    """Migrate, collect static files and seed the fleet; returns seconds spent seeding."""
    import django

    django.setup()
    from django.core.management import call_command

    from fleet.synthetic import seed_fleet

    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    started = time.perf_counter()
    for start in range(0, instances, step):
        seed_fleet(min(step, instances - start), start=start)
    seconds = time.perf_counter() - started
    from django.db import connection

    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load; without statistics the planner
        # guesses, and the figures would describe the first minute of a new database.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return seconds


def run_backend(args) -> int:
    seeded = setup_django(args.instances)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from inventory.models import DBInstance

    if args.team:
        from django.contrib.auth.models import Group

        from inventory.models import TeamGrant

        user = get_user_model().objects.create_user("bench")
        team = Group.objects.create(name="bench")
        TeamGrant.objects.create(group=team, pattern=args.team)
        user.groups.add(team)
    else:
        user = get_user_model().objects.create_user("bench", is_staff=True)
    client = Client()
    client.force_login(user)
    visible = DBInstance.objects.filter(check_state__status="ok", findings__isnull=False)
    if args.team:
        from inventory.teams import visible_accounts

        visible = visible.filter(account__in=visible_accounts(user))
    instance = visible[0]
    instances = reverse("dashboard:instances")
    pages = {
        "overview": reverse("dashboard:home"),
        "instances": instances,
        "instances, 5 filters, sorted": instances
        + "?provider=aws&grade=C&tag=env%3Dprod&finding=transport.not_enforced"
        "&lowest_tls=TLSv1.2&sort=-server_cert_not_after",
        "instances, page 40 of 250 per page": instances + "?page=40&per_page=250&sort=grade",
        "instances, table region (HTMX)": instances + "?grade=F&sort=-grade",
        "instance": reverse("dashboard:instance", args=[instance.pk]),
        "certificates": reverse("dashboard:certificates"),
        "findings (worklist)": reverse("dashboard:findings"),
        "findings by type": reverse("dashboard:findings") + "?view=types",
        "evidence (printable, first 2,000 rows)": reverse("dashboard:evidence"),
        "finding (one id)": reverse("dashboard:finding", args=["transport.not_enforced"]),
        "runs": reverse("dashboard:runs"),
    }
    htmx = {"HX-Request": "true", "HX-Target": "instance-table"}
    vendor = connection.vendor
    print(
        f"== {vendor}: {DBInstance.objects.count():,} endpoints seeded in {seeded:.1f} s; "
        f"{args.repeat} renders per page, as "
        + (f"a team member granted {args.team!r}" if args.team else "staff")
    )
    print(f"{'page':38} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'KiB':>6}")
    for name, url in pages.items():
        headers = htmx if "HTMX" in name else {}
        response = client.get(url, headers=headers)  # warm caches and templates
        assert response.status_code == 200, (name, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            client.get(url, headers=headers)
        count = len(queries)  # now: later requests clear the log it reads
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            client.get(url, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        size = len(response.content) / 1024
        print(f"{name:38} {statistics.median(times):10.1f} {p95:8.1f} {count:8d} {size:6.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
