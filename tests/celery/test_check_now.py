"""The dashboard's "check now" with a broker configured: the check goes to the check-now
queue of the endpoint's network zone, a worker of that zone runs it (the web process does
not, and has no checker password) ahead of a round already queued, and the page's status
region shows the worker's result."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from checker.models import CheckRun, Observation
from checker.tasks import enqueue_checks
from common.queues import check_now_queue, zone_queue
from fleet.celery_worker import wait_for
from inventory.models import CloudAccount, DBInstance
from tests.checker.loopback import LoopbackServer, silent
from tests.fleet_targets import FLEET_REGION, fleet_endpoint, worker_passwords

pytestmark = pytest.mark.celery

HTMX = {"HX-Request": "true", "HX-Target": "check-status"}


def test_check_now_runs_on_the_zones_worker_and_the_page_shows_it(
    redis_broker, workers, zone, tls_fleet, client
):
    network_zone = zone("web")
    account = CloudAccount.objects.create(
        name="queued",
        provider="aws",
        network_zone=network_zone,
        ca_bundle=str(tls_fleet.bundle_path),
    )
    instance = fleet_endpoint(account, tls_fleet, "enforced")
    worker = workers(
        redis_broker,
        "web",
        [zone_queue(network_zone)],
        env=worker_passwords(tls_fleet, ["enforced"]),
    )
    # Not pytest-django's user fixtures: they hold a transaction the worker could not see into.
    client.force_login(get_user_model().objects.create_user("dba", is_staff=True))

    pressed = client.post(reverse("dashboard:check-now", args=[instance.pk]), headers=HTMX)
    fragment = pressed.content.decode()
    assert "Checking" in fragment
    status_url = re.search(r'hx-get="([^"]+)" hx-trigger', fragment).group(1).replace("&amp;", "&")

    def settled():
        page = client.get(status_url, headers={"HX-Request": "true"}).content.decode()
        return page if 'hx-trigger="every 2s"' not in page else None

    result = wait_for(settled, 60, "the queued check's result", worker)
    assert "New result:" in result and "checked" in result
    run = CheckRun.objects.get()
    assert (run.trigger, run.network_zone, run.ok) == ("dashboard", network_zone, 1)
    assert worker.took(run.task_id)
    assert Observation.objects.get(instance=instance).status == "ok"


def test_check_now_is_taken_ahead_of_a_round_already_queued(
    broker, workers, zone, tls_fleet, settings
):
    network_zone = zone("busy")
    account = CloudAccount.objects.create(
        name="busy", provider="aws", network_zone=network_zone, ca_bundle=str(tls_fleet.bundle_path)
    )
    pressed = fleet_endpoint(account, tls_fleet, "enforced")
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "CHECK_BATCH_SIZE": 1}
    with LoopbackServer(silent) as stalling:
        # A round of six batches whose endpoints hold each check until its deadline.
        now = timezone.now()
        round_ = [
            DBInstance.objects.create(
                account=account,
                provider="aws",
                region=FLEET_REGION,
                resource_id=f"arn:aws:rds:{FLEET_REGION}:123456789012:db:stalling-{n}",
                identifier=f"stalling-{n}",
                engine="mysql",
                endpoint_host=f"stalling-{n}.fleet.test",
                endpoint_port=3306,
                connect_host="127.0.0.1",
                connect_port=stalling.port,
                first_seen=now,
                last_seen=now,
            )
            for n in range(6)
        ]
        # One worker slot, started with the zone's queue only, as deployed.
        worker = workers(
            broker,
            "busy",
            [zone_queue(network_zone)],
            env={
                **worker_passwords(tls_fleet, ["enforced"]),
                "TLSPOSTURE_TARGET_DEADLINE": "2",
                "TLSPOSTURE_CONNECT_TIMEOUT": "1",
                "TLSPOSTURE_READ_TIMEOUT": "1",
            },
        )
        assert len(enqueue_checks(round_, trigger="beat")) == 6
        (urgent,) = enqueue_checks([pressed], trigger="dashboard", urgent=True)
        assert urgent.queue == check_now_queue(network_zone)

        wait_for(
            lambda: Observation.objects.filter(instance=pressed).exists(),
            60,
            "the check-now result",
            worker,
        )
        round_checked = Observation.objects.filter(instance__in=round_).count()
    assert Observation.objects.get(instance=pressed).status == "ok"
    # Taken once the batch running when it was queued (and at most one more) was done,
    # not after the round's six.
    assert round_checked <= 2
