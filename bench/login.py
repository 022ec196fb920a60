"""What login throttling (django-axes) costs: server time per login, before and after a
brute force left N failed-attempt rows behind (default 10,000).

    .venv/bin/python bench/login.py [--attempts N] [--repeat R]

Production settings on a throwaway SQLite database (bench/pages.py's environment). Prints
median and 95th percentile milliseconds of a successful login, a failed one, and a refused
one (a locked-out username), with the queries each takes. Figures only; no assertion.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import throwaway_database  # noqa: E402 - the environment of bench/pages.py

PASSWORD = secrets.token_urlsafe(16)  # a throwaway database's user


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return run(args)
    with throwaway_database("sqlite", None) as env:
        command = [sys.executable, __file__, "--child"]
        command += ["--attempts", str(args.attempts), "--repeat", str(args.repeat)]
        subprocess.run(command, env=env, cwd=ROOT, check=True)
    return 0


def _timed(post, repeat: int) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, statuses, queries = [], set(), 0
    for i in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            status = post(i)
            times.append((time.perf_counter() - started) * 1000)
        statuses.add(status)
        queries = len(captured)
    p95 = statistics.quantiles(times, n=20)[-1]
    (status,) = statuses
    return statistics.median(times), p95, queries, status


def run(args) -> int:
    import django

    django.setup()
    from axes.models import AccessAttempt
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    get_user_model().objects.create_user("dba", password=PASSWORD)
    get_user_model().objects.create_user("victim", password=PASSWORD)

    def login(username, password, address):
        client = Client(REMOTE_ADDR=address)
        return client.post("/login/", {"username": username, "password": password}).status_code

    print(f"login throttling, SQLite, {args.repeat} logins each (ms median / p95, queries)")
    for label in ("empty table", f"{args.attempts:,} attempt rows"):
        if label != "empty table":
            now = timezone.now()
            AccessAttempt.objects.bulk_create(
                AccessAttempt(
                    username=f"guess-{n}",
                    ip_address=f"127.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
                    user_agent="bench",
                    failures_since_start=1,
                    attempt_time=now,
                    get_data="",
                    post_data="",
                    http_accept="",
                    path_info="/login/",
                )
                for n in range(args.attempts)
            )
            for _ in range(5):  # lock "victim" out
                login("victim", "wrong", "127.200.0.1")
        rows = [
            ("success", lambda i: login("dba", PASSWORD, "127.100.0.1")),
            # A new username and address each time: none reaches the limit.
            ("failure", lambda i: login(f"nobody-{i}", "wrong", f"127.101.0.{i}")),
        ]
        if label != "empty table":
            rows.append(("refused (locked)", lambda i: login("victim", PASSWORD, "127.100.0.3")))
        for name, post in rows:
            median, p95, queries, status = _timed(post, args.repeat)
            print(f"  {label:>20}  {name:<17} {median:6.1f} / {p95:6.1f} ms, {queries} queries"
                  f" (HTTP {status})")  # fmt: skip
            if name == "failure":
                AccessAttempt.objects.filter(username__startswith="nobody-").delete()
    return 0


if __name__ == "__main__":
    sys.exit(main())
