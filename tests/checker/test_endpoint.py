"""check_endpoint: one endpoint end to end, and the status its outcome maps to."""

from __future__ import annotations

from checker.endpoint import CheckLimits, Endpoint, check_endpoint
from checker.probe import ProbeLimits
from checker.secret import Login, Secret
from checker.session import SessionLimits
from tests.checker import loopback

FAST = ProbeLimits(connect_timeout=1.0, read_timeout=0.4, max_handshakes=12)
NAME = "db.example.test"


def test_check_endpoint_maps_hostile_outcomes_to_statuses(tls_fleet):
    limits = CheckLimits(
        probe=FAST,
        session=SessionLimits(connect_timeout=1, read_timeout=0.4, write_timeout=0.4),
        target_deadline=3,
    )
    outcomes = {}
    for behaviour in (loopback.garbage, loopback.host_blocked, loopback.no_ssl_greeting):
        with loopback.LoopbackServer(behaviour) as server:
            endpoint = Endpoint(
                instance_id=1,
                label="test/hostile",
                dial_host="127.0.0.1",
                dial_port=server.port,
                verify_name=NAME,
                cafile=str(tls_fleet.bundle_path),
            )
            result = check_endpoint(endpoint, limits)
        outcomes[behaviour.__name__] = (result.status, result.reason)
    assert outcomes == {
        "garbage": (
            "unreachable",
            "not a MySQL greeting: unrecognised bytes 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 "
            "14 15 16",
        ),
        "host_blocked": (
            "unreachable",
            "server refused the connection with error 1129: Host '127.0.0.1' is blocked "
            "because of many connection errors; unblock with 'mariadb-admin flush-hosts'",
        ),
        "no_ssl_greeting": ("tls-failed", "server offers no TLS (no CLIENT_SSL in the greeting)"),
    }


def test_unresolvable_dial_host_is_unreachable():
    endpoint = Endpoint(
        instance_id=1,
        label="test/nowhere",
        dial_host="nowhere.invalid",
        dial_port=3306,
        verify_name="nowhere.invalid",
    )
    result = check_endpoint(endpoint, CheckLimits(target_deadline=3))
    assert result.status == "unreachable"
    assert result.reason.startswith("cannot resolve nowhere.invalid")


def test_no_login_is_tried_where_no_tls_handshake_succeeded():
    limits = CheckLimits(probe=FAST, target_deadline=5)
    with loopback.LoopbackServer(loopback.hangs_in_tls) as server:
        endpoint = Endpoint(
            instance_id=1,
            label="test/stalling",
            dial_host="127.0.0.1",
            dial_port=server.port,
            verify_name=NAME,
            cafile="/etc/ssl/certs/ca-certificates.crt",
            login=Login("tlsposture", Secret("never-sent")),
        )
        result = check_endpoint(endpoint, limits)
        connections = server.connections
    assert result.status == "tls-failed"
    assert result.reason == (
        "no TLS version was accepted (TLS offered, but no handshake got an answer)"
    )
    assert result.evidence.session.attempted is False
    assert connections == 2  # the two stalled handshakes, no login
    assert result.duration_ms < 2000
