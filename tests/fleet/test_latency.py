"""The delaying proxy of the latency benchmarks (fleet/latency.py): what passes through it
arrives whole and in order, half-closes and resets pass as such, a connection reaches the
server only after the link's round trips, and its per-host counts are exact."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

import pytest

from fleet.latency import DelayProxy, Route
from tests.checker.loopback import LoopbackServer, recv_exactly, silent


@contextlib.contextmanager
def proxied(server: LoopbackServer, listen_host: str, rtt: float):
    """(proxy, client): a client connected to `server` through a route on `listen_host`."""
    with (
        DelayProxy([Route(listen_host, *server.address)], rtt=rtt) as proxy,
        socket.create_connection(proxy.address(listen_host), timeout=30) as client,
    ):
        yield proxy, client


def read_to_eof(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def talker(conn, server):
    """Greets first (as MySQL does), then answers everything it got once the client has
    shut down its side, then shuts down its own."""
    conn.sendall(b"hello")
    received = read_to_eof(conn)
    conn.sendall(b"got " + str(len(received)).encode() + b": " + received[-20:])
    conn.shutdown(socket.SHUT_WR)
    read_to_eof(conn)


@pytest.mark.parametrize("rtt", [0.0, 0.02])
def test_bytes_arrive_whole_in_order_and_half_closes_pass(rtt):
    with LoopbackServer(talker) as server, proxied(server, "127.0.8.1", rtt) as (_, client):
        assert recv_exactly(client, 5) == b"hello"
        payload = b"".join(b"%05d," % n for n in range(20000))  # many chunks
        client.sendall(payload)
        client.shutdown(socket.SHUT_WR)  # half-close: the server still answers
        answer = read_to_eof(client)
    assert answer == b"got " + str(len(payload)).encode() + b": " + payload[-20:]


def test_a_reset_passes_as_a_reset():
    def resetting(conn, server):
        conn.sendall(b"hello")
        recv_exactly(conn, 3)  # the client read the greeting
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    with LoopbackServer(resetting) as server, proxied(server, "127.0.8.2", 0.01) as (_, client):
        assert recv_exactly(client, 5) == b"hello"
        client.sendall(b"bye")
        with pytest.raises(ConnectionResetError):
            while client.recv(1024):
                pass


def test_a_connection_reaches_the_server_only_after_the_tcp_handshake_of_the_link():
    # An hour of RTT: the proxy takes the connection and the client's bytes at once,
    # but the server sees nothing of it for 1.5 hours.
    with LoopbackServer(talker) as server, proxied(server, "127.0.8.3", 3600) as (proxy, client):
        client.sendall(b"early")
        wait_for_accepts(proxy, "127.0.8.3", 1)
        assert server.connections == 0


def test_the_peak_per_host_counts_what_was_open_at_once_and_not_what_the_client_closed():
    with LoopbackServer(silent) as server:
        routes = [Route("127.0.8.4", *server.address), Route("127.0.8.5", *server.address)]
        with DelayProxy(routes, rtt=3600) as proxy:
            here, there = proxy.address("127.0.8.4"), proxy.address("127.0.8.5")
            first = socket.create_connection(here)
            second = socket.create_connection(here)
            wait_for_accepts(proxy, "127.0.8.4", 2)
            first.close()  # the client is done with it, whatever the proxy has read yet
            third = socket.create_connection(here)
            wait_for_accepts(proxy, "127.0.8.4", 3)
            elsewhere = socket.create_connection(there)
            wait_for_accepts(proxy, "127.0.8.5", 1)
            counts, peak_open = proxy.snapshot(), proxy.peak_open
            for sock in (second, third, elsewhere):
                sock.close()
    assert counts == {
        "127.0.8.4": {"accepted": 3, "peak": 2},
        "127.0.8.5": {"accepted": 1, "peak": 1},
    }
    assert peak_open == 3


def test_it_listens_on_loopback_only():
    with pytest.raises(ValueError, match="loopback only"):
        DelayProxy([Route("192.0.2.1", "127.0.0.1", 3306)], rtt=0.1)


def wait_for_accepts(proxy: DelayProxy, host: str, count: int) -> None:
    done = threading.Event()
    for _ in range(2000):
        if proxy.snapshot()[host]["accepted"] >= count:
            return
        done.wait(0.01)
    raise AssertionError(f"the proxy never accepted {count} connection(s) on {host}")
