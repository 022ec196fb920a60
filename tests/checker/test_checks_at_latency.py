"""Checks against real servers behind real latency (fleet/latency.py): the per-host limit
holds at high concurrency, every check is whole, and threads stay bounded — as counts."""

from __future__ import annotations

import threading

import pytest
from django.utils import timezone

from checker.models import CheckerProfile
from checker.services import run_checks
from fleet.latency import DelayProxy, Route
from fleet.scenarios import endpoint_name
from inventory.models import CloudAccount, DBInstance

pytestmark = pytest.mark.django_db

HOSTS = 6
PER_HOST = 2


def test_many_checks_at_once_over_a_slow_link_keep_to_two_per_host(
    tls_fleet, settings, monkeypatch
):
    server = tls_fleet["enforced"]
    monkeypatch.setenv("TLSPOSTURE_CRED_FLEET_CHECKER_PW_FAR", server.checker.password)
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "WORKERS": 64, "PER_HOST_LIMIT": PER_HOST}
    account = CloudAccount.objects.create(
        name="far", provider="aws", ca_bundle=str(tls_fleet.bundle_path)
    )
    CheckerProfile.objects.create(
        name="far",
        match="far/*",
        username=server.checker.username,
        password_env="TLSPOSTURE_CRED_FLEET_CHECKER_PW_FAR",
    )
    # Six hosts, each a loopback address of the proxy 50 ms away from the real server.
    routes = [Route(f"127.0.9.{n}", server.host, server.port) for n in range(1, HOSTS + 1)]
    with DelayProxy(routes, rtt=0.05) as proxy:
        now = timezone.now()
        instances = [
            DBInstance.objects.create(
                account=account,
                provider="aws",
                region="us-east-1",
                identifier=f"far-{n:02}",
                resource_id=f"arn:aws:rds:us-east-1:111111111111:db:far-{n:02}",
                engine="mariadb",
                endpoint_host=endpoint_name("enforced"),
                endpoint_port=3306,
                connect_host=routes[n % HOSTS].listen_host,
                connect_port=proxy.address(routes[n % HOSTS].listen_host)[1],
                first_seen=now,
                last_seen=now,
            )
            for n in range(4 * HOSTS)
        ]
        before = threading.active_count()
        threads: list[int] = []
        run = run_checks(instances, progress=lambda _: threads.append(threading.active_count()))
        seen = proxy.snapshot()
        peak_open = proxy.peak_open

    assert (run.targets, run.ok, run.failed) == (24, 24, 0)
    assert all(o.evidence["probe"]["handshakes"] >= 6 for o in run.observations.all())
    # Four endpoints per host and room for 24 at once: the hosts' limit is what binds.
    assert 24 >= run.workers >= 16  # the adaptive limit's floor, capped by the targets
    for host, counts in seen.items():
        assert counts["peak"] <= PER_HOST, host
        assert counts["accepted"] >= 4 * 6, host  # four checks of several connections
    assert peak_open > PER_HOST  # and several hosts were checked at once
    # Per check at most its pool thread, a resolver and a deadline watchdog; plus the pacer.
    assert max(threads) <= before + 3 * HOSTS * PER_HOST + 1
