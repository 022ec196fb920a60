"""A worker killed mid-task leaves nothing half-written, and the task is delivered again to
another worker of the zone: a sync redoes the whole region, a check batch the endpoints
that have no observation yet."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import call_command
from django.db.models import Count

from checker.models import CheckRun, Observation
from common.queues import zone_queue
from fleet import postgres
from fleet.celery_worker import wait_for
from fleet.moto_server import seed
from inventory.models import CloudAccount, DBInstance, SyncRun
from tests.checker.loopback import LoopbackServer
from tests.fleet_targets import fleet_endpoint, worker_passwords

pytestmark = [pytest.mark.celery, pytest.mark.long(seconds=35)]

AWS_ACCOUNT = "123456789012"
INSTANCES = 12
# RabbitMQ requeues a dead consumer's unacknowledged message as its connection drops; Redis
# once the visibility timeout has passed, at a worker's next sweep (made short here; in
# production the timeout outlasts the hard time limit).
QUICK_REDELIVERY = {
    "visibility_timeout": 2,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

# The sync's transaction has written DBInstance rows and now waits for TLSParameter, which
# the test holds locked: a worker caught exactly in the middle of write_region.
_STUCK_MID_WRITE = """
SELECT a.pid FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
  AND a.wait_event_type = 'Lock' AND a.query LIKE '%inventory_tlsparameter%'
  AND EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
              WHERE l.pid = a.pid AND c.relname = 'inventory_dbinstance'
                AND l.mode = 'RowExclusiveLock' AND l.granted)
"""


def _stuck_backend(database_url: str) -> int | None:
    # Its own connection: inside a transaction pg_stat_activity keeps showing one snapshot.
    with postgres.connect(database_url, autocommit=True) as conn:
        row = conn.execute(_STUCK_MID_WRITE).fetchone()
    return row[0] if row else None


def test_killed_mid_write_nothing_is_half_written_and_another_worker_redoes_it(
    broker, workers, aws, zone, shared_database
):
    rows = [
        {"DBInstanceIdentifier": f"db-{n}", "Engine": "mysql", "EngineVersion": "8.0.39"}
        for n in range(INSTANCES)
    ]
    seed(aws, "create_db_instances", account_id=AWS_ACCOUNT, region="eu-west-1", instances=rows)
    zone_name = zone("k")
    queue = zone_queue(zone_name)
    account = CloudAccount.objects.create(
        name="k", provider="aws", regions=["eu-west-1"], endpoint_url=aws, network_zone=zone_name
    )
    transport = QUICK_REDELIVERY if broker.kind == "redis" else {}

    lock_holder = postgres.connect(shared_database)
    try:
        lock_holder.execute("BEGIN")
        lock_holder.execute("LOCK TABLE inventory_tlsparameter IN ACCESS EXCLUSIVE MODE")
        first = workers(broker, "first", [queue], transport=transport)
        call_command("sync_inventory", "--queue", stdout=io.StringIO())
        stuck = wait_for(
            lambda: _stuck_backend(shared_database), 30, "the sync to block mid-write", first
        )
        abandoned = SyncRun.objects.get(account=account)
        assert abandoned.status == "running" and first.took(abandoned.task_id)

        first.kill()
    finally:
        lock_holder.rollback()
        lock_holder.close()

    # The dead worker's transaction can never commit: not one of its rows is visible.
    wait_for(
        lambda: not _backend_alive(shared_database, stuck),
        30,
        "PostgreSQL to drop the dead worker's session",
    )
    assert DBInstance.objects.filter(account=account).count() == 0

    second = workers(broker, "second", [queue], transport=transport)
    redone = wait_for(
        lambda: SyncRun.objects.filter(account=account, status="ok").first(),
        45,
        "the task delivered again to the second worker",
        second,
    )
    assert redone.task_id == abandoned.task_id and second.took(redone.task_id)
    assert redone.instances_seen == INSTANCES
    assert DBInstance.objects.filter(account=account).count() == INSTANCES
    abandoned.refresh_from_db()
    assert abandoned.status == "failed"
    assert abandoned.error.startswith("abandoned: the worker running it was lost")


def _backend_alive(database_url: str, pid: int) -> bool:
    with postgres.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return row.fetchone()[0] > 0


def test_a_killed_check_batch_is_finished_elsewhere_without_checking_twice(
    redis_broker, workers, zone, tls_fleet
):
    zone_name = zone("checks")
    queue = zone_queue(zone_name)
    account = CloudAccount.objects.create(
        name="c", provider="aws", network_zone=zone_name, ca_bundle=str(tls_fleet.bundle_path)
    )
    fleet_endpoint(account, tls_fleet, "enforced")
    fleet_endpoint(account, tls_fleet, "optional")
    env = {
        **worker_passwords(tls_fleet, ["enforced", "optional"]),
        # The hung endpoint must still hang when the worker is killed.
        "TLSPOSTURE_READ_TIMEOUT": "60",
        "TLSPOSTURE_TARGET_DEADLINE": "90",
    }
    answering = threading.Event()
    # Accepts and says nothing until `answering`; then hangs up at once.
    with LoopbackServer(lambda conn, server: answering.wait(60)) as hanging:
        hung = fleet_endpoint(account, tls_fleet, "enforced", identifier="hung")
        hung.connect_port = hanging.port
        hung.save(update_fields=["connect_port"])
        first = workers(redis_broker, "first", [queue], transport=QUICK_REDELIVERY, env=env)
        call_command("check_tls", "--queue", "--all", stdout=io.StringIO())
        wait_for(lambda: Observation.objects.count() == 2, 30, "the two answering endpoints", first)
        abandoned = CheckRun.objects.get()
        assert (abandoned.status, abandoned.ok) == ("running", 2)

        first.kill()
        answering.set()
        second = workers(redis_broker, "second", [queue], transport=QUICK_REDELIVERY, env=env)
        redone = wait_for(
            lambda: CheckRun.objects.filter(status="done").first(), 45, "the batch redone", second
        )

    assert redone.task_id == abandoned.task_id and second.took(redone.task_id)
    # Only the endpoint the lost worker had not finished was checked again.
    assert (redone.targets, redone.failed) == (1, 1)
    per_endpoint = dict(
        Observation.objects.values_list("instance__identifier").annotate(n=Count("pk"))
    )
    assert per_endpoint == {"enforced": 1, "optional": 1, "hung": 1}
    assert Observation.objects.get(instance=hung).run == redone
    abandoned.refresh_from_db()
    assert abandoned.status == "failed"
    assert abandoned.error.startswith("abandoned: the worker running it was lost")
