"""The probe against loopback servers: hostile, broken or foreign ones give a reason,
quickly, never an exception; MySQL-speaking TLS servers show what the fleet cannot."""

from __future__ import annotations

import http.server
import ssl
import threading
import time

import pytest

from checker.deadline import Deadline
from checker.evidence import ACCEPTED, ERROR, REJECTED, UNTESTED
from checker.probe import ProbeLimits, probe_endpoint
from fleet.certs import make_server_cert
from tests.checker import loopback

FAST = ProbeLimits(connect_timeout=1.0, read_timeout=0.4, max_handshakes=12)
NAME = "db.example.test"


# Far beyond what any of these probes needs: a probe that ends well before it (TOOK_AT_MOST)
# stopped on its own read timeouts and rules, not on the deadline, however loaded the machine.
DEADLINE = 30.0
TOOK_AT_MOST = DEADLINE / 3


def _probe(address, seconds: float = DEADLINE):
    started = time.monotonic()
    evidence = probe_endpoint(address, NAME, cafile=None, limits=FAST, deadline=Deadline(seconds))
    return evidence, time.monotonic() - started


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        (loopback.garbage, "not a MySQL greeting: unrecognised bytes 07 08 09"),
        (loopback.reset, "connection reset by the server"),
        (loopback.silent, "no MySQL greeting within 0.4 s"),
    ],
)
def test_servers_that_never_greet_are_unreached_with_a_reason(behaviour, reason):
    with loopback.LoopbackServer(behaviour) as server:
        evidence, took = _probe(server.address)
    assert evidence.reached is False
    assert reason in evidence.error
    assert evidence.handshakes == 0
    assert took < TOOK_AT_MOST
    assert all(v.state == UNTESTED and v.detail for v in evidence.protocols.values())


def test_an_http_server_is_named_as_not_mysql():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        evidence, took = _probe(httpd.server_address)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
    assert evidence.reached is False
    assert "the service waits for the client to speak: not a MySQL server" in evidence.error
    assert took < TOOK_AT_MOST


def test_a_server_that_speaks_first_in_another_protocol_is_named():
    def ssh(conn, server):
        conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")

    with loopback.LoopbackServer(ssh) as server:
        evidence, _ = _probe(server.address)
    assert evidence.error == "not a MySQL greeting: looks like an SSH server"


def test_closed_port_is_refused():
    with loopback.LoopbackServer(loopback.silent) as server:
        address = server.address
    evidence, _ = _probe(address)
    assert (evidence.reached, evidence.error) == (False, "connection refused")


def test_err_1129_instead_of_a_greeting_is_reported_as_such():
    with loopback.LoopbackServer(loopback.host_blocked) as server:
        evidence, _ = _probe(server.address)
        connections = server.connections
    assert evidence.reached is True and evidence.error_code == 1129
    assert evidence.error.startswith("server refused the connection with error 1129: Host")
    assert connections == 1  # a blocked host is not asked again


def test_greeting_without_client_ssl_means_no_tls_and_no_handshake():
    with loopback.LoopbackServer(loopback.no_ssl_greeting) as server:
        evidence, _ = _probe(server.address)
    assert evidence.tls_offered is False
    assert (evidence.server_version, evidence.flavour) == ("8.0.39", "mysql")
    assert evidence.handshakes == 0
    assert evidence.protocols["TLSv1.2"].detail == (
        "server offers no TLS (no CLIENT_SSL in the greeting)"
    )


def test_a_server_that_hangs_during_tls_is_given_up_on_quickly():
    with loopback.LoopbackServer(loopback.hangs_in_tls) as server:
        evidence, took = _probe(server.address)
    assert evidence.tls_offered is True
    states = {v: evidence.protocols[v].state for v in ("TLSv1.2", "TLSv1.3")}
    assert states == {"TLSv1.2": ERROR, "TLSv1.3": ERROR}
    assert evidence.protocols["TLSv1.2"].detail == "no answer within 0.4 s"
    # Two stalls are enough: the rest is not asked, and says why.
    assert evidence.handshakes == 2
    stalled = "not asked: the server stalled on earlier handshakes"
    assert evidence.protocols["SSLv3"].detail == stalled
    assert evidence.error == "TLS offered, but no handshake got an answer"
    assert took < TOOK_AT_MOST


def test_the_deadline_bounds_a_slow_server():
    with loopback.LoopbackServer(loopback.hangs_in_tls) as server:
        limits = ProbeLimits(connect_timeout=1, read_timeout=DEADLINE, stalls_tolerated=12)
        started = time.monotonic()
        evidence = probe_endpoint(
            server.address, NAME, cafile=None, limits=limits, deadline=Deadline(1.0)
        )
        took = time.monotonic() - started
    assert took < TOOK_AT_MOST  # the deadline, not the 30 s read timeout, ended it
    assert evidence.protocols["TLSv1.2"].detail.startswith("no answer within")
    assert evidence.protocols["SSLv3"].detail == "not asked: deadline of 1 s reached"


def test_closing_on_the_client_hello_counts_as_refusal():
    with loopback.LoopbackServer(loopback.closes_on_hello) as server:
        evidence, _ = _probe(server.address)
    assert {v.state for v in evidence.protocols.values()} == {REJECTED}
    assert evidence.error == "TLS offered, but every version was refused"
    assert evidence.cipher_classes["static_rsa"].detail == "no TLS version was accepted"


def test_a_close_before_the_client_hello_is_no_refusal():
    """Only a close after the ClientHello declines it; one before it answers nothing."""

    def greets_once(conn, server):
        if server.connections == 1:
            loopback.closes_on_hello(conn, server)

    with loopback.LoopbackServer(greets_once) as server:
        evidence, _ = _probe(server.address)
    assert evidence.protocols["TLSv1.2"].state == REJECTED
    assert (evidence.protocols["TLSv1.3"].state, evidence.protocols["TLSv1.3"].detail) == (
        ERROR,
        "the server closed the connection without a word",
    )


@pytest.fixture(scope="module")
def mysql_auto_cert_server(tmp_path_factory):
    """MySQL 8 with its auto-generated certificate: self-signed, no SAN, a fixed CN."""
    cert = make_server_cert(
        [], issuer=None, common_name="MySQL_Server_8.0.39_Auto_Generated_Server_Certificate"
    )
    cert_path, key_path = cert.write(tmp_path_factory.mktemp("auto"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    with loopback.LoopbackServer(loopback.mysql_tls(context)) as server:
        yield server


def test_auto_generated_certificate_is_recognised_and_judged(mysql_auto_cert_server, tls_fleet):
    evidence = probe_endpoint(
        mysql_auto_cert_server.address,
        NAME,
        cafile=str(tls_fleet.bundle_path),
        limits=FAST,
        deadline=Deadline(5),
    )
    assert evidence.flavour == "mysql"
    assert evidence.protocols["TLSv1.3"].state == ACCEPTED
    assert evidence.protocols["TLSv1.2"].state == ACCEPTED
    [leaf] = evidence.chain
    assert leaf.auto_generated == "mysql-auto" and leaf.self_signed is True
    assert leaf.sans == []
    assert evidence.trust.ok is False and evidence.trust.reason == "self-signed certificate"
    assert evidence.hostname.ok is False
    assert evidence.hostname.reason == (
        f"certificate has no DNS subjectAltName for {NAME}; its subject CN is "
        "MySQL_Server_8.0.39_Auto_Generated_Server_Certificate"
    )


def _legacy_only_server(tls_fleet, tmp_path, key_type):
    """TLS 1.0/1.1 only, as an old server that cannot do TLS 1.2."""
    anchors = tls_fleet.anchors
    cert = make_server_cert(
        [NAME], issuer=anchors.intermediate, chain=(anchors.intermediate.cert,), key_type=key_type
    )
    cert_path, key_path = cert.write(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("ALL:@SECLEVEL=0")
    context.load_cert_chain(cert_path, key_path)
    return loopback.LoopbackServer(loopback.mysql_tls(context, "5.6.51"))


@pytest.mark.parametrize(
    ("key_type", "trust"),
    [
        ("rsa2048", (True, "chain verifies against the trust bundle (judged at TLS < 1.2, "
                           "the only versions the server speaks)")),
        ("rsa1024", (False, "leaf key too weak (RSA 1024 bits)")),
    ],
)  # fmt: skip
def test_a_legacy_only_server_is_still_judged(tls_fleet, tmp_path, key_type, trust):
    with _legacy_only_server(tls_fleet, tmp_path, key_type) as server:
        evidence = probe_endpoint(
            server.address, NAME, cafile=str(tls_fleet.bundle_path), limits=FAST,
            deadline=Deadline(5),
        )  # fmt: skip
    states = {v: evidence.protocols[v].state for v in ("TLSv1.0", "TLSv1.1", "TLSv1.2")}
    assert states == {"TLSv1.0": ACCEPTED, "TLSv1.1": ACCEPTED, "TLSv1.2": REJECTED}
    assert evidence.protocols["TLSv1.2"].detail == "server chose TLSv1.1 instead"
    assert evidence.cipher_classes["static_rsa"].detail == (
        "asked with TLSv1.1; server chose TLSv1.1"
    )
    assert len(evidence.chain) == 2 and evidence.intermediates_observed is True
    assert (evidence.trust.ok, evidence.trust.reason) == trust
    assert evidence.hostname.ok is True
    assert evidence.handshakes <= 12
