"""A small fleet written through the real inventory and posture services, at a frozen time.

prod-aws (us-east-1):   orders-db   checked, clean                          A+  env=prod
                        legacy-db   require_secure_transport=0, unchecked   C   env=staging
                        expiring-db mariadb, certificate 5 days from expiry C   env=prod
                        rotation-db on rds-ca-2019 (retired, expired), CA rotation pending  F
prod-aws (eu-west-1):   eu-db       never checked, nothing from the API     ?
cn-aliyun (cn-hangzhou): rm-orders  ApsaraDB SSL on, not forced             C
                        old-db      gone
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from inventory.facts import PendingActionFact, RegionInventory
from inventory.models import CloudAccount, DBInstance, SyncRegion, SyncRun
from inventory.region_writer import write_region
from posture.services import evaluate_all
from tests.posture.builders import NOW, clean_evidence
from tests.posture.rows import CA, CA_2019, instance, instance_fact, observe, rst, sync
from tests.teams import join_team

DAY = timedelta(days=1)
PASSWORD = "pw-for-dashboard-tests"


@pytest.fixture(autouse=True)
def empty_cache():
    """ "Check now" keeps its in-flight marks in the cache; no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def _aliyun_fact(name: str, **kw):
    return instance_fact(
        name,
        resource_id=name,
        engine_version="8.0",
        endpoint_host=f"{name}.mysql.rds.aliyuncs.com",
        parameter_group="",
        parameter_group_is_default=None,
        parameters=(rst("OFF", group="", set_by=""),),
        ca_identifier="",
        ssl_enabled=True,
        ssl_forced=False,
        ssl_endpoint=f"{name}.mysql.rds.aliyuncs.com",
        server_cert_not_after=NOW + 200 * DAY,
        server_cert_source="api:apsaradb-ssl",
        **kw,
    )


def build_world() -> dict:
    prod = CloudAccount.objects.create(name="prod-aws", provider="aws", regions=["us-east-1"])
    aliyun = CloudAccount.objects.create(
        name="cn-aliyun",
        provider="aliyun",
        access_key_id_env="TLSPOSTURE_CRED_DASHBOARD_AK",
        access_key_secret_env="TLSPOSTURE_CRED_DASHBOARD_SK",
    )
    sync(
        prod,
        instance_fact("orders-db", tags=(("env", "prod"), ("team", "orders"))),
        instance_fact(
            "legacy-db",
            parameters=(rst("0"),),
            tags=(("env", "staging"),),
            server_cert_not_after=NOW + 60 * DAY,
        ),
        instance_fact(
            "expiring-db",
            engine="mariadb",
            engine_version="10.11.9",
            tags=(("env", "prod"),),
            server_cert_not_after=NOW + 5 * DAY,
        ),
        instance_fact(
            "rotation-db",
            ca_identifier="rds-ca-2019",
            pending_actions=(
                PendingActionFact(
                    "ca-certificate-rotation",
                    description="CA certificate rotation",
                    current_apply_date=NOW + 12 * DAY,
                    forced_apply_date=NOW + 40 * DAY,
                ),
            ),
        ),
        cas=(CA, CA_2019),
    )
    write_region(
        prod,
        RegionInventory(
            "eu-west-1",
            (
                instance_fact(
                    "eu-db",
                    resource_id="arn:aws:rds:eu-west-1:111111111111:db:eu-db",
                    parameters=(),
                    server_cert_not_after=None,
                    ca_identifier="",
                ),
            ),
        ),
    )
    write_region(
        aliyun,
        RegionInventory("cn-hangzhou", (_aliyun_fact("rm-orders"), _aliyun_fact("old-db"))),
    )
    DBInstance.objects.filter(identifier="old-db").update(gone_at=NOW - DAY)
    observe(instance(prod, "orders-db"), clean_evidence(), NOW - timedelta(hours=1))
    evaluate_all()
    return {"prod": prod, "aliyun": aliyun}


def _region(run, region, status, *, error="", warnings=()):
    return SyncRegion.objects.create(
        run=run,
        region=region,
        status=status,
        error=error,
        warnings=list(warnings),
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


def add_sync_runs(world: dict) -> None:
    """prod-aws us-east-1 synced an hour ago; eu-west-1 failed since its last success two
    days ago; cn-aliyun's latest run failed as a whole."""
    prod, aliyun = world["prod"], world["aliyun"]
    old = SyncRun.objects.create(
        account=prod, started_at=NOW - 2 * DAY, finished_at=NOW - 2 * DAY, status="ok"
    )
    _region(old, "eu-west-1", "ok")
    recent = SyncRun.objects.create(
        account=prod, started_at=NOW - timedelta(hours=1), finished_at=NOW, status="partial"
    )
    _region(recent, "us-east-1", "ok", warnings=["orders-db: CertificateDetails unreadable"])
    _region(recent, "eu-west-1", "failed", error="AccessDenied: not authorized to rds:Describe")
    SyncRun.objects.create(
        account=aliyun,
        started_at=NOW - timedelta(hours=3),
        finished_at=NOW - timedelta(hours=3),
        status="failed",
        error="InvalidAccessKeyId.NotFound: the key does not exist",
    )


@pytest.fixture
def world(db, frozen):
    return build_world()


@pytest.fixture
def viewer(django_user_model):
    # In a team granted every account: sees the whole (small) fleet without being staff.
    return join_team(django_user_model.objects.create_user("viewer", password=PASSWORD))


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("auditor", password=PASSWORD, is_staff=True)


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def body(response) -> str:
    """The whole body of a plain, streaming or file response."""
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def now() -> datetime:
    return timezone.now().astimezone(UTC)
