"""Client evidence accumulates across checks of real servers, per account@host and TLS
version, and is kept for TLSPOSTURE_CLIENT_WINDOW_DAYS."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from checker.client_evidence import record_clients
from checker.evidence import Evidence
from checker.models import ClientReadout, ClientSighting, Observation
from checker.services import run_checks
from fleet.clients import PLAINTEXT, TLS10, TLS12, connect_client, create_app_account
from inventory.models import CloudAccount
from tests.fleet_targets import fleet_endpoint, password_variable

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoints(client_fleet, monkeypatch):
    account = CloudAccount.objects.create(
        name="clients", provider="aws", ca_bundle=str(client_fleet.bundle_path)
    )
    for name in ("watched", "unwatched"):
        monkeypatch.setenv(password_variable(name), client_fleet[name].checker.password)
    return {name: fleet_endpoint(account, client_fleet, name) for name in ("watched", "unwatched")}


@pytest.fixture
def app(client_fleet):
    """An application account of this test's own; connect(server, how, source)."""
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
    yield connect
    for conn in opened:
        if conn.open:
            conn.close()
    for server in client_fleet:
        server.query(f"DROP USER '{name}'@'%'")


def _sightings(instance, user):
    return {
        (s.host, s.tls_version): (s.connections, s.checks)
        for s in ClientSighting.objects.filter(instance=instance, user=user)
    }


def test_checks_accumulate_each_client_and_its_tls(endpoints, app):
    watched = endpoints["watched"]
    staying = app("watched", PLAINTEXT, "127.0.0.2")
    app("watched", TLS12, "127.0.0.3")
    app("watched", TLS10, "127.0.0.4")
    run_checks([watched], workers=1)
    run_checks([watched], workers=1)
    # The same open connections, seen by two checks: one connection each.
    assert _sightings(watched, app.user) == {
        ("127.0.0.2", ""): (1, 2),
        ("127.0.0.3", "TLSv1.2"): (1, 2),
        ("127.0.0.4", "TLSv1"): (1, 2),
    }
    staying.close()
    app("watched", PLAINTEXT, "127.0.0.2")
    run_checks([watched], workers=1)
    assert _sightings(watched, app.user)[("127.0.0.2", "")] == (2, 3)
    readouts = ClientReadout.objects.filter(instance=watched)
    assert [r.state for r in readouts] == ["ok", "ok", "ok"]
    assert not ClientSighting.objects.filter(instance=watched, user="tlsposture").exists()


def test_without_performance_schema_the_counters_count_plaintext_between_checks(endpoints, app):
    unwatched = endpoints["unwatched"]
    run_checks([unwatched], workers=1)
    app("unwatched", PLAINTEXT, "127.0.0.2").close()
    app("unwatched", TLS12, "127.0.0.3").close()
    run_checks([unwatched], workers=1)
    latest, first = ClientReadout.objects.filter(instance=unwatched)
    assert first.counted_without_tls is None  # nothing to compare with yet
    assert (latest.state, latest.counted_without_tls) == ("off", 1)
    assert "performance_schema=ON" in latest.reason
    assert not ClientSighting.objects.filter(instance=unwatched).exists()


def test_evidence_older_than_the_window_goes(endpoints, app, settings):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "CLIENT_WINDOW_DAYS": 10}
    watched = endpoints["watched"]
    app("watched", PLAINTEXT, "127.0.0.2")
    run_checks([watched], workers=1)
    observation = Observation.objects.filter(instance=watched).latest()
    assert _sightings(watched, app.user) == {("127.0.0.2", ""): (1, 1)}
    # The same check's evidence recorded eleven days later (a later check that saw nothing
    # of this client would drop it the same way): the first readout and sighting are gone.
    later = observation.checked_at + timedelta(days=11)
    evidence = Evidence.from_dict(observation.evidence)
    evidence.session.clients.connections = []
    record_clients(watched.pk, evidence, later, observation)
    assert _sightings(watched, app.user) == {}
    assert [r.checked_at for r in ClientReadout.objects.filter(instance=watched)] == [later]
