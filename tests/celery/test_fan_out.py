"""What the dispatchers put on which queue (a real broker, no worker: the messages are read
back from the queues)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from checker.models import TargetState
from checker.tasks import dispatch_checks
from common.queues import zone_queue
from inventory.models import CloudAccount, DBInstance, SyncRun
from inventory.tasks import discover_regions, dispatch_sync, enqueue_sync

pytestmark = [pytest.mark.celery, pytest.mark.long(seconds=30)]


@pytest.fixture
def queues(redis_broker):
    """Queue names this test uses; emptied and deleted afterwards."""
    used: list[str] = []
    yield used
    redis_broker.delete_queues(used)


def _calls(messages: list[dict]) -> list[tuple]:
    return [(m["task"], *m["args"]) for m in messages]


def test_one_task_per_account_and_region_on_the_accounts_zone(redis_broker, queues, zone):
    private, public = zone("private"), zone("public")
    queues += [zone_queue(private), zone_queue(public)]
    orders = CloudAccount.objects.create(
        name="orders", provider="aws", regions=["us-east-1", "eu-west-1"], network_zone=private
    )
    web = CloudAccount.objects.create(name="web", provider="aws", regions=[], network_zone=public)
    CloudAccount.objects.create(name="old", provider="aws", network_zone=public, enabled=False)

    assert dispatch_sync.apply(kwargs={"every": 3600}).get() == 3

    in_private = redis_broker.take_messages(zone_queue(private))
    assert _calls(in_private) == [
        ("inventory.sync_region", orders.pk, "us-east-1", "beat"),
        ("inventory.sync_region", orders.pk, "eu-west-1", "beat"),
    ]
    # Regions of an account that names none are discovered from inside its zone.
    in_public = redis_broker.take_messages(zone_queue(public))
    assert _calls(in_public) == [("inventory.discover_regions", web.pk, "beat")]
    # A round nobody takes within one interval is dropped rather than piling up.
    assert all(m["expires"] for m in in_private + in_public)


def test_regions_named_on_the_command_line_win(redis_broker, queues, zone):
    private = zone("private")
    queues.append(zone_queue(private))
    account = CloudAccount.objects.create(
        name="orders", provider="aws", regions=["us-east-1"], network_zone=private
    )
    queued = enqueue_sync([account], ["ap-southeast-2"])
    assert [(q.account, q.region, q.queue) for q in queued] == [
        ("orders", "ap-southeast-2", zone_queue(private))
    ]
    message = redis_broker.take_messages(zone_queue(private))[0]
    assert message["args"] == [account.pk, "ap-southeast-2", "queued"] and not message["expires"]


@pytest.fixture
def aws_keys(monkeypatch, tmp_path):
    """moto's dummy key pair through the default chain; nothing from the host's AWS config."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))


def test_discovery_fans_out_every_region_onto_the_same_zone(
    redis_broker, queues, zone, aws, aws_keys
):
    private = zone("private")
    queues.append(zone_queue(private))
    account = CloudAccount.objects.create(
        name="orders", provider="aws", endpoint_url=aws, network_zone=private
    )

    found = discover_regions.apply((account.pk, "beat")).get()

    regions = [m["args"][1] for m in redis_broker.take_messages(zone_queue(private))]
    assert found == len(regions) > 10
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= set(regions)


def test_regions_that_cannot_be_discovered_make_a_failed_run(
    redis_broker, queues, zone, aws_keys, settings
):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "CLOUD_API_ATTEMPTS": 1}
    private = zone("private")
    queues.append(zone_queue(private))
    account = CloudAccount.objects.create(
        name="orders", provider="aws", endpoint_url="http://127.0.0.1:9", network_zone=private
    )

    assert discover_regions.apply((account.pk, "beat"), task_id="discover-1").get() == 0

    run = SyncRun.objects.get(account=account)
    assert (run.status, run.task_id, run.trigger) == ("failed", "discover-1", "beat")
    assert run.error.startswith("regions could not be discovered")
    assert redis_broker.take_messages(zone_queue(private)) == []


def test_due_endpoints_go_in_batches_to_the_zone_of_their_account(
    redis_broker, queues, zone, settings
):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "CHECK_BATCH_SIZE": 2}
    private, public = zone("private"), zone("public")
    queues += [zone_queue(private), zone_queue(public)]
    orders = CloudAccount.objects.create(name="orders", provider="aws", network_zone=private)
    web = CloudAccount.objects.create(name="web", provider="aws", network_zone=public)
    in_private = [_endpoint(orders, f"orders-{n}") for n in range(3)]
    in_public = _endpoint(web, "web-0")
    checked_now = _endpoint(web, "web-1")
    TargetState.objects.create(instance=checked_now, last_checked=timezone.now(), status="ok")

    assert dispatch_checks.apply(kwargs={"every": 3600}).get() == 3

    private_batches = redis_broker.take_messages(zone_queue(private))
    assert [m["task"] for m in private_batches] == ["checker.check_batch"] * 2
    assert [m["args"][:3] for m in private_batches] == [
        [[in_private[0].pk, in_private[1].pk], private, "beat"],
        [[in_private[2].pk], private, "beat"],
    ]
    (public_batch,) = redis_broker.take_messages(zone_queue(public))
    assert public_batch["args"][:3] == [[in_public.pk], public, "beat"]
    assert all(m["expires"] for m in [*private_batches, public_batch])


def _endpoint(account, identifier):
    now = timezone.now()
    return DBInstance.objects.create(
        account=account, provider="aws", region="us-east-1", identifier=identifier,
        resource_id=f"arn:aws:rds:us-east-1:1:db:{identifier}", engine="mysql",
        endpoint_host=f"{identifier}.example.internal", endpoint_port=3306,
        first_seen=now, last_seen=now,
    )  # fmt: skip
