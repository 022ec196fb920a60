"""run_checks and `manage.py check_tls` against the real fleet: one observation per target."""

from __future__ import annotations

import io
import json
import logging
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from checker.evidence import Evidence
from checker.models import CheckerProfile, CheckRun, Observation, TargetState
from checker.services import run_checks
from checker.signals import check_finished
from checker.targets import checkable_instances, plan_endpoints
from fleet.scenarios import SCENARIOS, endpoint_name
from inventory.models import CloudAccount, DBInstance
from tests.checker import loopback

pytestmark = pytest.mark.django_db

EXPECTED_STATUS = {
    "enforced": ("ok", ""),
    "optional": ("ok", ""),
    "legacy": ("ok", ""),
    "expiring": ("ok", ""),
    "ec_key": ("ok", ""),
    "replica": ("ok", ""),
    "no_tls": ("tls-failed", "server offers no TLS (no CLIENT_SSL in the greeting)"),
    "expired": ("tls-failed", "chain not trusted (certificate has expired)"),
    "self_signed": (
        "tls-failed",
        "chain not trusted (self-signed certificate)",
    ),
    "weak_cert": (
        "tls-failed",
        "chain not trusted (EE certificate key too weak)",
    ),
    "wrong_name": (
        "tls-failed",
        "hostname not verified (certificate does not name "
        "wrong-name.fleet.test (it names other-host.fleet.test))",
    ),
}


def _instance(account, identifier, **fields):
    now = timezone.now()
    defaults = {
        "provider": account.provider,
        "region": "us-east-1",
        "resource_id": f"arn:aws:rds:us-east-1:111111111111:db:{identifier}",
        "engine": "mariadb",
        "endpoint_port": 3306,
        "first_seen": now,
        "last_seen": now,
    }
    return DBInstance.objects.create(
        account=account, identifier=identifier, **{**defaults, **fields}
    )


@pytest.fixture
def fleet_account(tls_fleet, monkeypatch):
    """The fleet as an inventory: canonical names, dialed through 127.0.0.1 overrides, one
    profile per server (each has its own random checker password, handed over by env)."""
    account = CloudAccount.objects.create(
        name="fleet", provider="aws", ca_bundle=str(tls_fleet.bundle_path)
    )
    for position, scenario in enumerate(SCENARIOS):
        server = tls_fleet[scenario]
        _instance(
            account,
            scenario,
            endpoint_host=endpoint_name(scenario),
            connect_host=server.host,
            connect_port=server.port,
        )
        variable = f"TLSPOSTURE_CRED_FLEET_CHECKER_PW_{scenario.upper()}"
        monkeypatch.setenv(variable, server.checker.password)
        CheckerProfile.objects.create(
            name=scenario,
            match=f"fleet/{scenario}",
            position=position,
            username=server.checker.username,
            password_env=variable,
        )
    return account


def _all_passwords(tls_fleet) -> list[str]:
    return [
        creds.password
        for server in tls_fleet
        for creds in (server.checker, server.app_ssl, server.app_plain, server.canary)
    ]


def test_a_run_stores_one_observation_per_target_and_announces_it(fleet_account, tls_fleet, caplog):
    caplog.set_level(logging.DEBUG)
    announced = []

    def listener(sender, run, instance_ids, **kwargs):
        announced.append((run.pk, sorted(instance_ids)))

    check_finished.connect(listener)
    try:
        run = run_checks(checkable_instances(), workers=4)
    finally:
        check_finished.disconnect(listener)

    assert (run.status, run.targets, run.ok, run.failed) == ("done", 11, 6, 5)
    assert run.finished_at is not None and run.workers == 4
    observations = {o.instance.identifier: o for o in run.observations.select_related("instance")}
    assert {k: (o.status, o.reason) for k, o in observations.items()} == EXPECTED_STATUS
    ids = sorted(DBInstance.objects.values_list("pk", flat=True))
    assert announced == [(run.pk, ids)]

    enforced = observations["enforced"]
    assert enforced.dialed == f"127.0.0.1:{tls_fleet['enforced'].port}"
    assert enforced.verified_name == "enforced.fleet.test"
    assert enforced.schema_version == 1 and enforced.evidence["schema"] == 1
    evidence = Evidence.from_dict(enforced.evidence)
    assert evidence.trust_bundle == str(tls_fleet.bundle_path)
    assert evidence.trust_bundle_source == "account"
    assert evidence.credential_source == "env:TLSPOSTURE_CRED_FLEET_CHECKER_PW_ENFORCED"
    assert evidence.profile == "enforced"
    assert evidence.dialed_address == enforced.dialed
    assert evidence.probe.protocols["TLSv1.3"].state == "accepted"
    assert evidence.session.outcome == "ok"
    assert evidence.session.variables["require_secure_transport"] == "ON"
    assert 0 < evidence.probe.handshakes <= 12

    state = TargetState.objects.get(instance__identifier="enforced")
    assert (state.status, state.latest, state.last_ok_at) == ("ok", enforced, enforced.checked_at)
    failed_state = TargetState.objects.get(instance__identifier="expired")
    assert failed_state.status == "tls-failed" and failed_state.last_ok_at is None

    # No secret in evidence, reasons or log lines.
    stored = json.dumps([o.evidence for o in Observation.objects.all()])
    reasons = " ".join(Observation.objects.values_list("reason", flat=True))
    for password in _all_passwords(tls_fleet):
        assert password not in stored
        assert password not in reasons
        assert password not in caplog.text


def test_unreachable_and_unresolvable_targets_are_recorded_with_the_reason(
    fleet_account, monkeypatch
):
    with loopback.LoopbackServer(loopback.silent) as closed:
        port = closed.port  # closed when the block ends
    gone = _instance(
        fleet_account,
        "gone",
        endpoint_host="gone.fleet.test",
        connect_host="127.0.0.1",
        connect_port=port,
    )
    monkeypatch.delenv("TLSPOSTURE_CRED_FLEET_CHECKER_PW_ENFORCED")
    enforced = DBInstance.objects.get(identifier="enforced")
    run = run_checks([gone, enforced], workers=2)
    statuses = dict(run.observations.values_list("instance__identifier", "status"))
    reasons = dict(run.observations.values_list("instance__identifier", "reason"))
    assert statuses == {"gone": "unreachable", "enforced": "auth-failed"}
    assert reasons["gone"] == "connection refused"
    assert reasons["enforced"] == (
        "environment variable TLSPOSTURE_CRED_FLEET_CHECKER_PW_ENFORCED is not set or empty"
    )
    assert (run.ok, run.failed) == (0, 2)


def test_iam_token_is_only_sent_inside_the_verified_session(fleet_account, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    CheckerProfile.objects.filter(name="enforced").update(password_env="", iam_auth=True)
    CheckerProfile.objects.filter(name="wrong_name").update(password_env="", iam_auth=True)
    instances = DBInstance.objects.filter(identifier__in=["enforced", "wrong_name"])
    run = run_checks(instances, workers=2)
    observed = {o.instance.identifier: o for o in run.observations.select_related("instance")}
    # MariaDB knows no IAM: the token arrives and is refused, proving it was sent (in TLS).
    assert observed["enforced"].status == "auth-failed"
    assert observed["enforced"].evidence["session"]["error_code"] == 1045
    assert observed["enforced"].evidence["credential_source"] == "iam"
    # The unverified server is never even asked.
    assert observed["wrong_name"].evidence["session"]["attempted"] is False
    assert "X-Amz-Signature" not in json.dumps([o.evidence for o in observed.values()])


def test_plaintext_canary_is_opt_in_per_profile(fleet_account, tls_fleet, monkeypatch):
    monkeypatch.setenv("TLSPOSTURE_CRED_FLEET_CANARY_PW", tls_fleet["optional"].canary.password)
    CheckerProfile.objects.filter(name="optional").update(
        canary_username="tlsp_canary", canary_password_env="TLSPOSTURE_CRED_FLEET_CANARY_PW"
    )
    instances = DBInstance.objects.filter(identifier__in=["optional", "enforced"])
    run = run_checks(instances, workers=2)
    evidence = {
        o.instance.identifier: o.evidence for o in run.observations.select_related("instance")
    }
    assert evidence["optional"]["session"]["plaintext_login"]["accepted"] is True
    assert evidence["optional"]["session"]["outcome"] == "ok"
    assert evidence["enforced"]["session"]["plaintext_login"]["attempted"] is False


def test_at_most_two_checks_at_a_time_against_one_host(fleet_account):
    waiting, lock = {"now": 0, "most": 0}, threading.Lock()

    def slow_greeter(conn, server):
        # Counted until the greeting goes out: a checker connection is certainly still
        # open then, since it waits for that greeting.
        with lock:
            waiting["now"] += 1
            waiting["most"] = max(waiting["most"], waiting["now"])
        time.sleep(0.2)
        with lock:
            waiting["now"] -= 1
        conn.sendall(loopback.greeting(tls=False))
        conn.recv(1)

    with loopback.LoopbackServer(slow_greeter) as server:
        instances = [
            _instance(
                fleet_account,
                f"busy-{i}",
                endpoint_host=f"busy-{i}.fleet.test",
                connect_host="127.0.0.1",
                connect_port=server.port,
            )
            for i in range(6)
        ]
        started = time.monotonic()
        with override_settings(TLSPOSTURE={**_settings(), "PER_HOST_LIMIT": 2}):
            run_checks(instances, workers=6)
        took = time.monotonic() - started
    assert server.connections == 6
    assert waiting["most"] == 2
    assert took >= 0.6  # three rounds of two


def _settings():
    from django.conf import settings

    return settings.TLSPOSTURE


def test_where_to_dial_what_to_verify_and_which_bundle(fleet_account, tls_fleet):
    aliyun = CloudAccount.objects.create(name="cn", provider="aliyun")
    apsara = _instance(
        aliyun,
        "rm-1",
        region="cn-hangzhou",
        endpoint_host="rm-1.mysql.rds.aliyuncs.com",
        ssl_endpoint="rm-1-internal.mysql.rds.aliyuncs.com",
    )
    CheckerProfile.objects.create(
        name="override",
        match="cn/*",
        position=99,
        connect_host="10.9.8.7",
        connect_port=13306,
        ca_bundle="/etc/tlsposture/apsara-ca.pem",
    )
    enforced = DBInstance.objects.get(identifier="enforced")
    options = {**_settings(), "CA_BUNDLE_ALIYUN": "/etc/aliyun.pem", "CA_BUNDLE": "/etc/all.pem"}
    with override_settings(TLSPOSTURE=options):
        planned = {e.label: e for e in plan_endpoints([apsara, enforced])}
        CheckerProfile.objects.filter(name="override").update(ca_bundle="")
        provider_default = plan_endpoints([apsara])[0]
    with override_settings(TLSPOSTURE={**options, "CA_BUNDLE_ALIYUN": ""}):
        global_default = plan_endpoints([apsara])[0]
    rm = planned["cn/rm-1"]
    assert (rm.dial_host, rm.dial_port) == ("10.9.8.7", 13306)
    assert rm.verify_name == "rm-1-internal.mysql.rds.aliyuncs.com"
    assert (rm.cafile, rm.cafile_source) == ("/etc/tlsposture/apsara-ca.pem", "profile")
    assert (provider_default.cafile, provider_default.cafile_source) == (
        "/etc/aliyun.pem",
        "provider",
    )
    assert (global_default.cafile, global_default.cafile_source) == ("/etc/all.pem", "default")
    fleet = planned["fleet/enforced"]
    assert (fleet.dial_host, fleet.dial_port) == ("127.0.0.1", tls_fleet["enforced"].port)
    assert fleet.verify_name == "enforced.fleet.test"
    assert fleet.cafile_source == "account"


def test_check_tls_command_by_reference_with_a_plain_summary(fleet_account):
    out = io.StringIO()
    pk = DBInstance.objects.get(identifier="optional").pk
    call_command(
        "check_tls",
        "--instance",
        "enforced",
        "--instance",
        str(pk),
        "--instance",
        "fleet/wrong_name",
        stdout=out,
    )
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("checked 3 endpoint(s) in ")
    assert lines[0].endswith(": 2 ok, 1 tls-failed")
    assert lines[1].startswith("  fleet/wrong_name tls-failed: hostname not verified")
    assert CheckRun.objects.get().targets == 3


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_check_tls_command_shows_progress_on_a_terminal(fleet_account):
    out = _Terminal()
    call_command("check_tls", "--all", "--workers", "3", stdout=out)
    text = out.getvalue()
    assert "\r\x1b[K11/11 checked · " in text and "/s · 5 failed" in text
    assert "checked 11 endpoint(s) in " in text


def test_check_tls_command_refuses_unknown_or_ambiguous_references(fleet_account):
    other = CloudAccount.objects.create(name="other", provider="aws")
    _instance(other, "enforced", endpoint_host="enforced.other.test")
    with pytest.raises(CommandError, match="no instance 'nope'"):
        call_command("check_tls", "--instance", "nope")
    with pytest.raises(CommandError, match="'enforced' names several instances"):
        call_command("check_tls", "--instance", "enforced")
    with pytest.raises(CommandError):
        call_command("check_tls")
    assert not CheckRun.objects.exists()
