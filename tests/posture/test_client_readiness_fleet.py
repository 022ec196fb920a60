"""Readiness against real servers: clients connect in plaintext, on TLS 1.2 and on TLS 1.0
across several checks; the findings name them; once they stop and the window passes (the
clock moved for the later checks and the evaluation), the verdicts turn to safe."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from checker.services import run_checks
from fleet.clients import PLAINTEXT, TLS10, TLS12, connect_client, create_app_account
from inventory.models import CloudAccount
from posture.models import Finding, InstancePosture
from posture.services import evaluate_instances
from tests.fleet_targets import fleet_endpoint, password_variable

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(client_fleet, monkeypatch):
    for name in ("watched", "unwatched"):
        monkeypatch.setenv(password_variable(name), client_fleet[name].checker.password)
    return CloudAccount.objects.create(
        name="clients", provider="aws", ca_bundle=str(client_fleet.bundle_path)
    )


@pytest.fixture
def app(client_fleet):
    name = f"app_{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    for server in client_fleet:
        create_app_account(server, name, password)
    opened = []

    def connect(server_name, how, source):
        conn = connect_client(client_fleet[server_name], name, password, how, source=source)
        opened.append(conn)
        return conn

    connect.user = name
    connect.opened = opened
    yield connect
    for conn in opened:
        if conn.open:
            conn.close()
    for server in client_fleet:
        server.query(f"DROP USER '{name}'@'%'")


def _open(instance, finding_id):
    return Finding.objects.filter(
        instance=instance, finding_id=finding_id, resolved_at__isnull=True
    ).first()


def test_clients_are_named_until_they_stop_and_the_window_passes(client_fleet, account, app):
    watched = fleet_endpoint(account, client_fleet, "watched")
    app("watched", PLAINTEXT, "127.0.0.2")
    app("watched", TLS12, "127.0.0.3")
    app("watched", TLS10, "127.0.0.4")
    for _ in range(3):
        run_checks([watched], workers=1)
    evaluate_instances([watched.pk])
    user = app.user

    plaintext = _open(watched, "clients.plaintext_observed")
    assert [c["client"] for c in plaintext.evidence["clients"]] == [f"{user}@127.0.0.2"]
    assert plaintext.evidence["clients"][0]["checks"] == 3
    assert plaintext.evidence["clients"][0]["connections"] == 1
    legacy = _open(watched, "clients.legacy_tls_observed")
    assert [(c["client"], c["tls_version"]) for c in legacy.evidence["clients"]] == [
        (f"{user}@127.0.0.4", "TLSv1")
    ]
    posture = InstancePosture.objects.get(instance=watched)
    assert posture.enforce_tls_readiness == "not-ready"
    assert posture.enforce_tls_verdict == f"would break: {user}@127.0.0.2 (last seen 1 min ago)"
    assert posture.drop_legacy_tls_readiness == "not-ready"
    assert posture.drop_legacy_tls_verdict.startswith(f"would break: {user}@127.0.0.4 ")
    transport = _open(watched, "transport.not_enforced")
    assert f"Readiness: would break: {user}@127.0.0.2" in transport.remediation

    for conn in app.opened:
        conn.close()
    # The clients are gone; checks go on for 31 days, and the window (30 days) passes.
    later = timezone.now() + timedelta(days=31)
    with time_machine.travel(later - timedelta(days=10), tick=True):
        run_checks([watched], workers=1)
    with time_machine.travel(later, tick=True):
        run_checks([watched], workers=1)
        evaluate_instances([watched.pk])
    assert _open(watched, "clients.plaintext_observed") is None
    assert _open(watched, "clients.legacy_tls_observed") is None
    posture.refresh_from_db()
    assert (posture.enforce_tls_readiness, posture.enforce_tls_verdict) == (
        "ready",
        "safe to enforce TLS: no plaintext client in 2 checks over 10 days",
    )
    assert posture.drop_legacy_tls_verdict == (
        "safe to drop TLS 1.0/1.1: no client on TLS 1.0/1.1 in 2 checks over 10 days"
    )


def test_with_performance_schema_off_the_reason_shows(client_fleet, account, app):
    unwatched = fleet_endpoint(account, client_fleet, "unwatched")
    run_checks([unwatched], workers=1)
    app("unwatched", PLAINTEXT, "127.0.0.2").close()
    run_checks([unwatched], workers=1)
    evaluate_instances([unwatched.pk])
    posture = InstancePosture.objects.get(instance=unwatched)
    assert posture.enforce_tls_verdict == (
        "would break: 1 connection without TLS counted in 1 check, not named (performance_schema)"
    )
    assert "performance_schema=ON" in posture.undetermined["clients.legacy_tls_observed"]
    assert posture.drop_legacy_tls_readiness == "unknown"
    assert "performance_schema=ON" in posture.drop_legacy_tls_verdict
    found = _open(unwatched, "clients.plaintext_observed")
    assert (found.evidence["clients"], found.evidence["counted_without_tls"]) == ([], 1)
