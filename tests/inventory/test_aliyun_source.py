"""Alibaba Cloud inventory: the real SDK against the local RDS API (fleet/aliyun_api.py),
written by `sync_account`. Nothing of ours is mocked; failures come from the server."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from common.timeutil import iso_z
from fleet.aliyun_api import AliyunApiServer
from inventory.models import CloudAccount, DBInstance, PendingAction, SyncRun, TLSParameter
from inventory.services import sync_account
from inventory.sources.aliyun import NETWORK_FAILURES_PER_ACTION

pytestmark = [pytest.mark.django_db, pytest.mark.long(seconds=30)]

AK, SK, TOKEN = "test-ak", "test-sk-not-a-real-secret", "test-sts-token"
REGION = "cn-hangzhou"
NOW = datetime.now(UTC).replace(microsecond=0)


def _ssl(**overrides) -> dict:
    """DescribeDBInstanceSSL of an instance with SSL on and a cloud certificate."""
    body = {
        "SSLEnabled": "Yes",
        "ForceEncryption": "0",
        "CAType": "aliyun",
        "RequireUpdate": "No",
        "SSLExpireTime": iso_z(NOW + timedelta(days=300)),
    }
    body.update(overrides)
    return body


def _instance(instance_id: str, **kw) -> dict:
    return {
        "DBInstanceId": instance_id,
        "EngineVersion": "8.0",
        "ZoneId": f"{REGION}-h",
        "ConnectionString": f"{instance_id}.mysql.rds.aliyuncs.com",
        "attribute": {"Port": "3306", "CurrentKernelVersion": "rds_20241130"},
        **kw,
    }


def _world(instances: list[dict], *, region: str = REGION, **extra) -> dict:
    return {
        "access_keys": {AK: {"secret": SK}},
        "regions": {region: {"zones": [f"{region}-h", f"{region}-i"], "instances": instances}},
        **extra,
    }


STANDARD = [
    _instance("rm-off", ssl={"SSLEnabled": "No"}),
    _instance(
        "rm-enabled",
        ssl=_ssl(ConnectionString="rm-enabled.mysql.rds.aliyuncs.com"),
        parameters={"running": {"require_secure_transport": "OFF"}},
    ),
    _instance(
        "rm-forced",
        ssl=_ssl(
            ForceEncryption="1",
            CAType="custom",
            ConnectionString="rm-forced-ssl.mysql.rds.aliyuncs.com",
        ),
        parameters={
            "running": {
                "loose_tls_version": "TLSv1.2,TLSv1.3",
                "require_secure_transport": "ON",
                "ssl_cipher": "ECDHE-RSA-AES128-GCM-SHA256",
                "max_connections": "2000",
            },
            "config": {"loose_tls_version": "TLSv1.3", "require_secure_transport": "ON"},
        },
    ),
    _instance("rm-expiring", ssl=_ssl(SSLExpireTime=iso_z(NOW + timedelta(days=5)))),
    _instance(
        "rm-renew",
        ssl=_ssl(RequireUpdate="Yes", RequireUpdateReason="The certificate expires soon."),
    ),
    _instance("rm-replica", DBInstanceType="Readonly", MasterInstanceId="rm-forced"),
]


@pytest.fixture(scope="module")
def api():
    with AliyunApiServer() as server:
        yield server


@pytest.fixture
def world(api):
    """Load a world per test; its `errors` replace earlier injections."""

    def load(instances=STANDARD, **kw):
        api.load(_world(instances, **kw))
        api.clear_requests()
        return api

    return load


@pytest.fixture(autouse=True)
def fast_client(settings):
    settings.TLSPOSTURE = {
        **settings.TLSPOSTURE,
        "CLOUD_API_CONNECT_TIMEOUT": 1.0,
        "CLOUD_API_READ_TIMEOUT": 1.0,
        "CLOUD_API_ATTEMPTS": 3,
        "ALIYUN_INSTANCE_WORKERS": 4,
    }


@pytest.fixture
def account(api, monkeypatch):
    monkeypatch.setenv("TLSPOSTURE_CRED_TEST_ALIYUN_AK", AK)
    monkeypatch.setenv("TLSPOSTURE_CRED_TEST_ALIYUN_SK", SK)
    return CloudAccount.objects.create(
        name="cn-aliyun",
        provider="aliyun",
        regions=[REGION],
        access_key_id_env="TLSPOSTURE_CRED_TEST_ALIYUN_AK",
        access_key_secret_env="TLSPOSTURE_CRED_TEST_ALIYUN_SK",
        endpoint=api.endpoint,
        protocol="http",
    )


def _row(instance_id: str) -> DBInstance:
    return DBInstance.objects.get(resource_id=instance_id)


def _region_error(run: SyncRun) -> str:
    return run.regions.get().error


def _assert_no_secret(run: SyncRun, caplog=None) -> None:
    texts = [run.error, *run.regions.values_list("error", flat=True)]
    texts += [str(e) for e in DBInstance.objects.values_list("lookup_errors", flat=True)]
    if caplog is not None:
        texts.append(caplog.text)
    for text in texts:
        assert SK not in text and TOKEN not in text


# ---- what the API says, as facts ---------------------------------------------------------


def test_ssl_states_are_separate_facts(world, account):
    world()
    run = sync_account(account)
    assert run.status == SyncRun.Status.OK, run.regions.get().error
    assert run.instances_seen == 6 and run.created == 6

    off = _row("rm-off")
    assert (off.ssl_enabled, off.ssl_forced) == (False, False)
    assert off.ssl_endpoint == "" and off.server_cert_not_after is None
    assert off.lookup_errors == {}

    enabled = _row("rm-enabled")
    assert (enabled.ssl_enabled, enabled.ssl_forced) == (True, False)
    assert enabled.ssl_endpoint == "rm-enabled.mysql.rds.aliyuncs.com"
    assert enabled.tls_parameters.get().normalised_value is False

    forced = _row("rm-forced")
    assert (forced.ssl_enabled, forced.ssl_forced) == (True, True)
    # The checker verifies the name SSL protects, not the instance's first endpoint.
    assert forced.ssl_endpoint == "rm-forced-ssl.mysql.rds.aliyuncs.com"
    assert forced.endpoint == "rm-forced.mysql.rds.aliyuncs.com:3306"
    assert forced.ssl_ca_type == "custom"
    assert forced.server_cert_source == "api:apsaradb-ssl"
    assert forced.server_cert_not_after == NOW + timedelta(days=300)
    assert (forced.kind, forced.engine, forced.engine_version, forced.role) == (
        "instance",
        "mysql",
        "8.0",
        "primary",
    )
    assert forced.details["kernel_version"] == "rds_20241130"
    assert forced.details["zone"] == f"{REGION}-h"
    assert forced.provider == "aliyun" and forced.region == REGION


def test_missing_ssl_keys_stay_unknown(world, account):
    expiry = iso_z(NOW + timedelta(days=90))
    world(
        [
            # An older minor version that cannot force SSL and omits ForceEncryption.
            _instance("rm-old-minor", ssl={"SSLEnabled": "Yes", "SSLExpireTime": expiry}),
            _instance("rm-silent", ssl={}),
        ]
    )
    sync_account(account)
    old = _row("rm-old-minor")
    assert (old.ssl_enabled, old.ssl_forced) == (True, None)
    assert old.lookup_errors == {
        "ssl_forced": "DescribeDBInstanceSSL did not state ForceEncryption"
    }
    assert old.server_cert_not_after == NOW + timedelta(days=90)
    silent = _row("rm-silent")
    assert (silent.ssl_enabled, silent.ssl_forced) == (None, None)
    assert sorted(silent.lookup_errors) == ["ssl_enabled", "ssl_forced"]


def test_certificate_expiry_and_pending_renewal(world, account):
    world()
    sync_account(account)
    expiring = _row("rm-expiring")
    assert expiring.server_cert_not_after == NOW + timedelta(days=5)
    renewal = PendingAction.objects.get()
    assert renewal.instance.resource_id == "rm-renew"
    assert renewal.action == PendingAction.Action.SSL_RENEWAL
    assert renewal.description == "The certificate expires soon."


def test_parameters_with_loose_prefix_and_pending_change(world, account):
    world()
    sync_account(account)
    forced = _row("rm-forced")
    params = {p.name: p for p in TLSParameter.objects.filter(instance=forced)}
    assert sorted(params) == ["require_secure_transport", "ssl_cipher", "tls_version"]
    tls = params["tls_version"]
    assert (tls.raw_value, tls.source, tls.source_name) == (
        "TLSv1.2,TLSv1.3",
        "api:apsaradb-parameters",
        "loose_tls_version",
    )
    assert tls.normalised_value == ["TLSv1.2", "TLSv1.3"]
    # Configured TLSv1.3 only, running 1.2 and 1.3: a change waits for a restart.
    assert tls.apply_status == "pending-reboot"
    assert params["require_secure_transport"].apply_status == "in-sync"
    assert forced.parameter_apply_status == "pending-reboot"
    assert forced.details["pending_tls_version"] == "TLSv1.3"


def test_read_only_replica_is_linked_to_its_primary(world, account):
    world()
    sync_account(account)
    replica = _row("rm-replica")
    assert replica.role == "read-only"
    assert replica.parent == _row("rm-forced")
    assert _row("rm-forced").parent is None


def test_250_instances_over_three_pages(world, account, settings):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "ALIYUN_INSTANCE_WORKERS": 8}
    api = world([_instance(f"rm-{n:03d}", ssl=_ssl()) for n in range(250)])
    run = sync_account(account)
    assert run.status == SyncRun.Status.OK
    assert DBInstance.objects.filter(account=account).count() == 250
    pages = [r.params for r in api.calls("DescribeDBInstances")]
    assert [(p["PageNumber"], p["PageSize"], p["Engine"]) for p in pages] == [
        ("1", "100", "MySQL"),
        ("2", "100", "MySQL"),
        ("3", "100", "MySQL"),
    ]
    assert run.api_calls == 3 + 250 * 3
    assert len(api.requests) == run.api_calls


# ---- sync semantics ----------------------------------------------------------------------


def test_second_run_changes_nothing_and_vanished_instances_are_gone(world, account):
    world()
    sync_account(account)
    again = sync_account(account)
    assert (again.status, again.created, again.changed, again.marked_gone) == ("ok", 0, 0, 0)

    world([i for i in STANDARD if i["DBInstanceId"] != "rm-enabled"])
    third = sync_account(account)
    assert third.marked_gone == 1
    assert _row("rm-enabled").gone_at is not None
    assert _row("rm-off").gone_at is None


def test_listing_that_shifts_between_pages_marks_nothing_gone(world, account):
    instances = [_instance(f"rm-{n:03d}") for n in range(101)]
    api = world([*instances, _instance("rm-zzz")])
    sync_account(account)
    # Page 1 answered while 102 instances existed, page 2 after rm-zzz was deleted and
    # another one moved up: the two pages disagree on the total.
    api.load(_world(instances))
    first_page = {
        "RequestId": "page-1",
        "Items": {"DBInstance": [{"DBInstanceId": f"rm-{n:03d}"} for n in range(100)]},
        "TotalRecordCount": 102,
        "PageNumber": 1,
        "PageRecordCount": 100,
    }
    api.inject("DescribeDBInstances", body=json.dumps(first_page), times=1)
    run = sync_account(account)
    assert run.status == SyncRun.Status.OK and run.instances_seen == 101
    assert run.marked_gone == 0
    assert _row("rm-zzz").gone_at is None


def test_regions_are_discovered_once_each(api, account):
    world = _world([_instance("rm-hz")])
    world["regions"]["cn-shanghai"] = {
        "zones": ["cn-shanghai-b", "cn-shanghai-e", "cn-shanghai-g"],
        "instances": [_instance("rm-sh")],
    }
    api.load(world)
    account.regions = []
    account.save()
    run = sync_account(account)
    assert sorted(run.regions.values_list("region", flat=True)) == [REGION, "cn-shanghai"]
    assert DBInstance.objects.get(resource_id="rm-sh").region == "cn-shanghai"


def test_failing_region_keeps_its_data(world, account):
    api = world()
    sync_account(account)
    api.inject("DescribeDBInstances", status=403, code="Forbidden.RAM", message="denied")
    run = sync_account(account)
    assert run.status == SyncRun.Status.FAILED
    assert _region_error(run).startswith(
        "DescribeDBInstances: HTTP 403 Forbidden.RAM: denied (request id "
    )
    assert DBInstance.objects.filter(gone_at__isnull=True).count() == 6
    assert run.marked_gone == 0


# ---- credentials -------------------------------------------------------------------------


def test_unknown_access_key_fails_without_leaking_secrets(world, account, monkeypatch, caplog):
    world()
    monkeypatch.setenv("TLSPOSTURE_CRED_TEST_ALIYUN_AK", "test-ak-unknown")
    with caplog.at_level(logging.DEBUG):
        run = sync_account(account)
    assert run.status == SyncRun.Status.FAILED
    assert "InvalidAccessKeyId.NotFound" in _region_error(run)
    assert "test-ak-unknown" not in _region_error(run)
    _assert_no_secret(run, caplog)


def test_wrong_secret_is_caught_by_the_signature_check(world, account, monkeypatch):
    world()
    monkeypatch.setenv("TLSPOSTURE_CRED_TEST_ALIYUN_SK", "test-sk-wrong")
    run = sync_account(account)
    assert "SignatureDoesNotMatch" in _region_error(run)
    assert "test-sk-wrong" not in _region_error(run)


def test_missing_environment_variable_is_named(account, monkeypatch):
    monkeypatch.delenv("TLSPOSTURE_CRED_TEST_ALIYUN_SK")
    run = sync_account(account)
    assert run.status == SyncRun.Status.FAILED
    assert run.error == (
        "environment variable TLSPOSTURE_CRED_TEST_ALIYUN_SK (access_key_secret_env) is not set"
    )


def test_account_imported_from_toml_syncs(world, monkeypatch, tmp_path):
    api = world()
    monkeypatch.setenv("TLSPOSTURE_CRED_TEST_ALIYUN_AK", AK)
    monkeypatch.setenv("TLSPOSTURE_CRED_TEST_ALIYUN_SK", SK)
    path = tmp_path / "accounts.toml"
    path.write_text(
        f"""
[[account]]
name = "cn-aliyun"
provider = "aliyun"
regions = ["{REGION}"]
access_key_id_env = "TLSPOSTURE_CRED_TEST_ALIYUN_AK"
access_key_secret_env = "TLSPOSTURE_CRED_TEST_ALIYUN_SK"
endpoint = "{api.endpoint}"
protocol = "http"
"""
    )
    call_command("import_accounts", str(path))
    run = sync_account(CloudAccount.objects.get(name="cn-aliyun"))
    assert (run.status, run.instances_seen) == (SyncRun.Status.OK, 6)


def test_sts_token_is_sent_and_checked(api, account, monkeypatch):
    world = _world([_instance("rm-sts", ssl=_ssl())])
    world["access_keys"] = {AK: {"secret": SK, "security_token": TOKEN}}
    api.load(world)
    api.clear_requests()
    account.security_token_env = "TLSPOSTURE_CRED_TEST_ALIYUN_TOKEN"
    account.save()
    monkeypatch.setenv("TLSPOSTURE_CRED_TEST_ALIYUN_TOKEN", TOKEN)
    run = sync_account(account)
    assert run.status == SyncRun.Status.OK
    assert all(r.security_token for r in api.requests)

    monkeypatch.setenv("TLSPOSTURE_CRED_TEST_ALIYUN_TOKEN", "test-sts-token-stale")
    run = sync_account(account)
    assert "InvalidSecurityToken.MismatchWithAccessKey" in _region_error(run)
    assert "test-sts-token-stale" not in _region_error(run)


def test_ram_role_assumption_is_refused_with_a_reason(account):
    account.role_arn = "acs:ram::1234567890123456:role/tlsposture-audit"
    account.save()
    run = sync_account(account)
    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith("assuming a RAM role (role_arn) is not supported")


# ---- failures and retries ----------------------------------------------------------------


def test_throttling_waits_for_retry_after_then_succeeds(world, account):
    api = world()
    api.inject(
        "DescribeDBInstances",
        status=400,
        code="Throttling.User",
        message="Request was denied due to user flow control.",
        retry_after_ms=400,
        times=1,
    )
    started = time.monotonic()
    run = sync_account(account)
    assert run.status == SyncRun.Status.OK
    assert [r.status for r in api.calls("DescribeDBInstances")] == [400, 200]
    assert time.monotonic() - started >= 0.4


def test_http_500_is_retried_then_fails_the_region(world, account):
    api = world()
    api.inject("DescribeDBInstances", status=500, code="InternalError", message="oops")
    run = sync_account(account)
    assert run.status == SyncRun.Status.FAILED
    assert _region_error(run).startswith("DescribeDBInstances: HTTP 500 InternalError: oops")
    assert len(api.calls("DescribeDBInstances")) == 3  # CLOUD_API_ATTEMPTS


def test_response_that_never_comes_times_out(world, account, settings):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "CLOUD_API_ATTEMPTS": 2}
    api = world()
    hung = api.inject("DescribeDBInstances", hang=True)
    run = sync_account(account)
    assert run.status == SyncRun.Status.FAILED
    assert _region_error(run).startswith("DescribeDBInstances: the API timed out after 2 attempt")
    assert len(api.calls("DescribeDBInstances")) == 0  # hung requests are never answered
    assert hung.fired == 2  # each attempt gave up on its own read timeout


def test_one_timeout_is_retried(world, account):
    api = world()
    api.inject("DescribeDBInstances", hang=True, times=1)
    run = sync_account(account)
    assert run.status == SyncRun.Status.OK
    assert run.instances_seen == 6
    assert [r.status for r in api.calls("DescribeDBInstances")] == [200]


def test_malformed_json_fails_the_region(world, account):
    api = world()
    api.inject("DescribeDBInstances", body='{"Items": {"DBInstance": [')
    run = sync_account(account)
    assert run.status == SyncRun.Status.FAILED
    assert _region_error(run) == "DescribeDBInstances: malformed response (not JSON)"


def test_one_instance_ssl_failure_leaves_the_rest(world, account):
    api = world()
    sync_account(account)
    api.inject(
        "DescribeDBInstanceSSL",
        instance="rm-renew",
        status=403,
        code="Forbidden.RAM",
        message="You are not authorized to do this action.",
    )
    run = sync_account(account)
    assert run.status == SyncRun.Status.OK
    assert run.regions.get().status == "ok" and run.marked_gone == 0
    broken = _row("rm-renew")
    assert (broken.ssl_enabled, broken.ssl_forced, broken.server_cert_not_after) == (
        None,
        None,
        None,
    )
    assert list(broken.lookup_errors) == ["ssl"]
    assert broken.lookup_errors["ssl"].startswith(
        "DescribeDBInstanceSSL: HTTP 403 Forbidden.RAM: You are not authorized"
    )
    assert broken.endpoint_port == 3306  # the other lookups still count
    assert _row("rm-forced").ssl_forced is True and _row("rm-forced").lookup_errors == {}
    _assert_no_secret(run)


def test_an_action_that_stops_answering_costs_only_its_facts(world, account, settings):
    settings.TLSPOSTURE = {
        **settings.TLSPOSTURE,
        "CLOUD_API_ATTEMPTS": 1,
        # Short enough to keep the test quick, long enough that the answered lookups are
        # never late on a loaded machine: only the hung action may time out.
        "CLOUD_API_READ_TIMEOUT": 2.0,
    }
    api = world([_instance(f"rm-{n:02d}", ssl=_ssl()) for n in range(40)])
    sync_account(account)
    api.clear_requests()
    hung = api.inject("DescribeDBInstanceSSL", hang=True)

    run = sync_account(account)

    # The region syncs: every instance, with SSL unknown and why; other lookups still count.
    assert run.status == SyncRun.Status.OK and run.instances_seen == 40
    assert len(api.calls("DescribeDBInstanceSSL")) == 0
    # Three timeouts spend the action's budget: only the lookups already in flight on the
    # region's threads were sent, the rest were not tried (no wait of 40 timeouts).
    timed_out = [r for r in DBInstance.objects.all() if "timed out" in r.lookup_errors["ssl"]]
    assert hung.fired == len(timed_out)
    workers = settings.TLSPOSTURE["ALIYUN_INSTANCE_WORKERS"]
    assert NETWORK_FAILURES_PER_ACTION <= hung.fired < NETWORK_FAILURES_PER_ACTION + workers
    rows = list(DBInstance.objects.order_by("identifier"))
    assert len(rows) == 40 and all(r.gone_at is None for r in rows)
    assert all(r.ssl_enabled is None and "ssl" in r.lookup_errors for r in rows)
    assert all(r.endpoint_port == 3306 for r in rows)
    reasons = {r.lookup_errors["ssl"] for r in rows}
    assert any("timed out" in reason for reason in reasons)
    assert any("not tried, it failed on the network" in reason for reason in reasons)
    (warning,) = run.regions.get().warnings
    assert warning.startswith(
        "40 of 40 instances: SSL enabled, SSL forced and certificate expiry unknown"
    )
