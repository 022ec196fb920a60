"""The dashboard's "check now" with a broker configured: the check goes to the queue of the
endpoint's network zone, a worker of that zone runs it (the web process does not, and has
no checker password), and the page's status region shows the worker's result."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from checker.models import CheckRun, Observation
from common.queues import zone_queue
from fleet.celery_worker import wait_for
from inventory.models import CloudAccount
from tests.fleet_targets import fleet_endpoint, worker_passwords

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
