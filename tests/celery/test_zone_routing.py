"""A worker of one network zone takes that zone's work and never another zone's."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from common.queues import zone_queue
from fleet.celery_worker import wait_for
from fleet.moto_server import seed
from inventory.models import CloudAccount, DBInstance, SyncRun

pytestmark = pytest.mark.celery

AWS_ACCOUNT = "123456789012"


def _instances(aws: str, region: str, count: int, prefix: str) -> None:
    instances = [
        {"DBInstanceIdentifier": f"{prefix}-{n}", "Engine": "mysql", "EngineVersion": "8.0.39"}
        for n in range(count)
    ]
    seed(aws, "create_db_instances", account_id=AWS_ACCOUNT, region=region, instances=instances)


def _finished_run(account: CloudAccount):
    return SyncRun.objects.filter(account=account).exclude(status=SyncRun.Status.RUNNING).first()


def test_sync_goes_to_the_zone_of_each_account_and_waits_for_its_worker(
    redis_broker, workers, aws, zone
):
    _instances(aws, "us-east-1", 3, "orders")
    _instances(aws, "eu-west-1", 2, "billing")
    zone_a, zone_b = zone("a"), zone("b")
    in_a = CloudAccount.objects.create(
        name="in-a", provider="aws", regions=["us-east-1"], endpoint_url=aws, network_zone=zone_a
    )
    in_b = CloudAccount.objects.create(
        name="in-b", provider="aws", regions=["eu-west-1"], endpoint_url=aws, network_zone=zone_b
    )
    worker_a = workers(redis_broker, "a", [zone_queue(zone_a)])

    out = io.StringIO()
    call_command("sync_inventory", "--queue", stdout=out)
    assert out.getvalue().splitlines() == [
        f"queued in-a: us-east-1 on zone.{zone_a}",
        f"queued in-b: eu-west-1 on zone.{zone_b}",
    ]

    run_a = wait_for(lambda: _finished_run(in_a), 30, "zone A's sync", worker_a)
    assert (run_a.status, run_a.instances_seen, run_a.trigger) == ("ok", 3, "queued")
    assert worker_a.took(run_a.task_id)
    # Zone B's work waits in its own queue: zone A's worker does not take it.
    assert not SyncRun.objects.filter(account=in_b).exists()
    assert redis_broker.queue_size(zone_queue(zone_b)) == 1

    worker_b = workers(redis_broker, "b", [zone_queue(zone_b)])
    run_b = wait_for(lambda: _finished_run(in_b), 30, "zone B's sync", worker_b)
    assert (run_b.status, run_b.instances_seen) == ("ok", 2)
    assert worker_b.took(run_b.task_id) and not worker_a.took(run_b.task_id)
    assert redis_broker.queue_size(zone_queue(zone_b)) == 0
    assert sorted(DBInstance.objects.values_list("account__name", "identifier")) == [
        ("in-a", "orders-0"), ("in-a", "orders-1"), ("in-a", "orders-2"),
        ("in-b", "billing-0"), ("in-b", "billing-1"),
    ]  # fmt: skip
