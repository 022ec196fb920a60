"""A worker of one network zone takes that zone's sync and check work, never another's;
the other zone's work waits in its queue until a worker of that zone comes."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from checker.models import CheckRun, Observation
from common.queues import zone_queue
from fleet.celery_worker import wait_for
from fleet.moto_server import seed
from inventory.models import CloudAccount, DBInstance, SyncRun
from tests.fleet_targets import fleet_endpoint, worker_passwords

pytestmark = [pytest.mark.celery, pytest.mark.long(seconds=30)]

AWS_ACCOUNT = "123456789012"


def _instances(aws: str, region: str, count: int, prefix: str) -> None:
    instances = [
        {"DBInstanceIdentifier": f"{prefix}-{n}", "Engine": "mysql", "EngineVersion": "8.0.39"}
        for n in range(count)
    ]
    seed(aws, "create_db_instances", account_id=AWS_ACCOUNT, region=region, instances=instances)


def _finished_sync(account: CloudAccount):
    return SyncRun.objects.filter(account=account).exclude(status=SyncRun.Status.RUNNING).first()


def _finished_check(zone: str):
    return CheckRun.objects.filter(network_zone=zone, status=CheckRun.Status.DONE).first()


def _lines(command: str, *args: str) -> list[str]:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue().splitlines()


def test_sync_and_checks_go_to_the_zone_of_each_account_and_wait_for_its_worker(
    broker, workers, aws, zone, tls_fleet
):
    _instances(aws, "us-east-1", 3, "orders")
    _instances(aws, "eu-west-1", 2, "billing")
    zone_a, zone_b = zone("a"), zone("b")
    queue_a, queue_b = zone_queue(zone_a), zone_queue(zone_b)
    in_a, in_b = (
        CloudAccount.objects.create(
            name=name, provider="aws", regions=[region], endpoint_url=aws,
            network_zone=network_zone, ca_bundle=str(tls_fleet.bundle_path),
        )
        for name, region, network_zone in (
            ("in-a", "us-east-1", zone_a), ("in-b", "eu-west-1", zone_b)
        )
    )  # fmt: skip
    enforced = fleet_endpoint(in_a, tls_fleet, "enforced")
    optional = fleet_endpoint(in_b, tls_fleet, "optional")
    passwords = worker_passwords(tls_fleet, ["enforced", "optional"])
    worker_a = workers(broker, "a", [queue_a], env=passwords)

    assert _lines("sync_inventory", "--queue") == [
        f"queued in-a: us-east-1 on {queue_a}",
        f"queued in-b: eu-west-1 on {queue_b}",
    ]
    checks = ["--instance", "in-a/enforced", "--instance", "in-b/optional"]
    assert _lines("check_tls", "--queue", *checks) == [
        f"queued 1 endpoint(s) in 1 batch(es) on {queue_a}",
        f"queued 1 endpoint(s) in 1 batch(es) on {queue_b}",
    ]

    sync_a = wait_for(lambda: _finished_sync(in_a), 30, "zone A's sync", worker_a)
    check_a = wait_for(lambda: _finished_check(zone_a), 30, "zone A's check", worker_a)
    assert (sync_a.status, sync_a.instances_seen, sync_a.trigger) == ("ok", 3, "queued")
    assert (check_a.targets, check_a.ok) == (1, 1)
    assert worker_a.took(sync_a.task_id) and worker_a.took(check_a.task_id)
    assert Observation.objects.get().instance == enforced
    # Zone B's sync and check wait in zone B's queue: zone A's worker does not take them.
    assert not SyncRun.objects.filter(account=in_b).exists()
    assert broker.queue_size(queue_b) == 2

    worker_b = workers(broker, "b", [queue_b], env=passwords)
    sync_b = wait_for(lambda: _finished_sync(in_b), 30, "zone B's sync", worker_b)
    check_b = wait_for(lambda: _finished_check(zone_b), 30, "zone B's check", worker_b)
    assert (sync_b.status, sync_b.instances_seen) == ("ok", 2)
    assert (check_b.targets, check_b.ok) == (1, 1)
    for task_id in (sync_b.task_id, check_b.task_id):
        assert worker_b.took(task_id) and not worker_a.took(task_id)
    assert broker.queue_size(queue_b) == 0
    observed = Observation.objects.get(instance=optional)
    assert (observed.status, observed.verified_name) == ("ok", "optional.fleet.test")
    assert sorted(DBInstance.objects.values_list("account__name", "identifier")) == [
        ("in-a", "enforced"), ("in-a", "orders-0"), ("in-a", "orders-1"), ("in-a", "orders-2"),
        ("in-b", "billing-0"), ("in-b", "billing-1"), ("in-b", "optional"),
    ]  # fmt: skip
