"""A delaying TCP proxy on loopback: real-world round-trip times in front of the fleet.

On loopback a check costs CPU, not waiting; real endpoints sit 20–150 ms away. Each route
listens on a loopback address of its own (any of 127.0.0.0/8, so routes count as different
hosts for the checker's per-host limit, as real endpoints do) and forwards to one upstream
server, holding every chunk RTT/2 in each direction:

- byte order is kept: one FIFO per direction and one constant delay;
- a half-close passes through: EOF from one side becomes a shutdown(SHUT_WR) towards the
  other RTT/2 later; a reset becomes a reset (an abort) RTT/2 later;
- a new connection reaches the server 1.5 RTT after the client connected (SYN, SYN-ACK,
  ACK), so a MySQL greeting arrives 2 RTT after connect() as over a real link. The
  client's own connect() returns at once (the kernel answers on loopback); a MySQL client
  cannot tell, since the server speaks first.

Userspace asyncio with protocols and one timer per direction (no task per chunk), in a
thread of the caller (`DelayProxy` as a context manager, for tests) or in processes of its
own (`python -m fleet.latency CONFIG.json`, for benchmarks, so that its CPU does not compete
with the checker's interpreter). It measures its own lateness — how long after its due time
each chunk went out — so a benchmark can tell the latency it asked for from an overloaded
proxy. Pure: no Django.

It also counts connections per route — total and peak at once — so a test can see what a
host saw. A connection counts as open from accept until its client sends FIN (closes or
shuts down its side; a MySQL client never half-closes). At each accept, connections whose
client already sent FIN are not counted even when the proxy has not read that FIN yet, so
the peak never counts a connection the client had finished with.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import select
import signal
import socket
import struct
import sys
import threading
from collections import deque
from dataclasses import dataclass, field

_EOF = b""
_RESET = None  # queued instead of bytes: the sender reset the connection
# A socket whose peer has shut down its sending side (or is gone) shows one of these.
_PEER_CLOSED = select.POLLRDHUP | select.POLLHUP | select.POLLERR


@dataclass(frozen=True)
class Route:
    listen_host: str
    upstream_host: str
    upstream_port: int
    listen_port: int = 0  # 0: a free port, see DelayProxy.address()


@dataclass
class RouteStats:
    accepted: int = 0
    peak: int = 0  # most connections open at once whose client had not sent FIN
    open: set = field(default_factory=set, repr=False)

    def as_dict(self) -> dict:
        return {"accepted": self.accepted, "peak": self.peak}


class DelayProxy:
    """Forward each route with `rtt` seconds of round-trip time added (0: no delay)."""

    def __init__(self, routes: list[Route], rtt: float):
        for route in routes:
            if not ipaddress.ip_address(route.listen_host).is_loopback:
                raise ValueError(f"{route.listen_host}: the proxy listens on loopback only")
        if rtt < 0:
            raise ValueError("rtt must not be negative")
        self.routes = list(routes)
        self.rtt = rtt
        self.stats = {r.listen_host: RouteStats() for r in routes}
        self.peak_open = 0  # most connections open at once over all routes (as RouteStats.peak)
        self.bound: dict[str, tuple[str, int]] = {}
        # How late chunks went out against their due time: a window of the latest.
        self.lateness: deque[float] = deque(maxlen=20000)
        self._links: set[_Link] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._servers: list[asyncio.AbstractServer] = []
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- as a thread of the caller ---------------------------------------------------------

    def __enter__(self) -> DelayProxy:
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve():
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.listen())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            self.close()
            loop.close()

        self._thread = threading.Thread(target=serve, name="delay-proxy", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def __exit__(self, *exc_info) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def address(self, listen_host: str) -> tuple[str, int]:
        """Where a client dials to reach the route listening on `listen_host`."""
        return self.bound[listen_host]

    def snapshot(self) -> dict[str, dict]:
        """Per listen address: connections accepted and the peak open at once."""
        with self._lock:
            return {host: stats.as_dict() for host, stats in self.stats.items()}

    def late_ms(self) -> dict[str, float]:
        """How late chunks were delivered (median, p99, max), ms: the proxy's own lag."""
        late = sorted(self.lateness)
        if not late:
            return {"median": 0.0, "p99": 0.0, "max": 0.0}
        return {
            "median": round(late[len(late) // 2] * 1000, 2),
            "p99": round(late[int(0.99 * (len(late) - 1))] * 1000, 2),
            "max": round(late[-1] * 1000, 2),
        }

    # -- the event loop --------------------------------------------------------------------

    async def listen(self) -> None:
        loop = asyncio.get_running_loop()
        for route in self.routes:
            server = await loop.create_server(
                lambda route=route: _ClientSide(self, route),
                host=route.listen_host,
                port=route.listen_port,
                reuse_address=True,
                backlog=512,
            )
            self._servers.append(server)
            self.bound[route.listen_host] = server.sockets[0].getsockname()[:2]

    def close(self) -> None:
        """Stop listening and cut the connections in flight (in the loop's thread)."""
        for server in self._servers:
            server.close()
        with self._lock:
            links = list(self._links)
        for link in links:
            link.abort()

    # -- what each route saw ---------------------------------------------------------------

    def _opened(self, link: _Link) -> None:
        with self._lock:
            stats = self.stats[link.route.listen_host]
            stats.accepted += 1
            stats.open.add(link)
            live = sum(1 for other in stats.open if other is link or not other.client_done())
            stats.peak = max(stats.peak, live)
            self._links.add(link)
            if len(self._links) > self.peak_open:
                everywhere = sum(1 for o in self._links if o is link or not o.client_done())
                self.peak_open = max(self.peak_open, everywhere)

    def _closed(self, link: _Link) -> None:
        with self._lock:
            self.stats[link.route.listen_host].open.discard(link)
            self._links.discard(link)


class _Direction:
    """One direction of a link: each chunk goes out `delay` after it came in, in order."""

    def __init__(self, link: _Link, delay: float):
        self.link = link
        self.delay = delay
        self.loop = link.loop
        self.queue: deque[tuple[float, bytes | None]] = deque()
        self.target: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.finished = False

    def push(self, item: bytes | None) -> None:
        self.queue.append((self.loop.time() + self.delay, item))
        if self.timer is None and self.target is not None:
            self._schedule()

    def attach(self, target: asyncio.Transport) -> None:
        self.target = target
        if self.queue and self.timer is None:
            self._schedule()

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _schedule(self) -> None:
        self.timer = self.loop.call_at(self.queue[0][0], self._deliver)

    def _deliver(self) -> None:
        self.timer = None
        now = self.loop.time()
        lateness = self.link.proxy.lateness
        first = True
        while self.queue and (first or self.queue[0][0] <= now):
            first = False
            due, item = self.queue.popleft()
            lateness.append(max(0.0, now - due))
            if item is _RESET:
                self.finished = True
                self.link.abort()
                return
            if item == _EOF:
                self.finished = True
                if self.target.can_write_eof() and not self.target.is_closing():
                    with contextlib.suppress(OSError):
                        self.target.write_eof()
                self.link.maybe_done()
                return
            if not self.target.is_closing():
                self.target.write(item)
        if self.queue:
            self._schedule()


class _Link:
    """One proxied connection: the client's transport, the server's, a direction each way."""

    def __init__(self, proxy: DelayProxy, route: Route, client: asyncio.Transport):
        self.proxy = proxy
        self.route = route
        self.loop = asyncio.get_running_loop()
        self.client = client
        self.server: asyncio.Transport | None = None
        half = proxy.rtt / 2
        self.upstream = _Direction(self, half)
        self.downstream = _Direction(self, half)
        self.downstream.attach(client)
        self.ended = False
        self.connecting = self.loop.call_later(1.5 * proxy.rtt, self._connect)
        proxy._opened(self)

    def client_done(self) -> bool:
        """Whether the client sent FIN (even if the proxy has not read it yet)."""
        if self.ended or self.upstream.finished:
            return True
        if self.upstream.queue and self.upstream.queue[-1][1] in (_EOF, _RESET):
            return True
        sock = self.client.get_extra_info("socket")
        try:
            poller = select.poll()
            poller.register(sock.fileno(), _PEER_CLOSED)
            return bool(poller.poll(0))
        except (OSError, ValueError):
            return True

    def _connect(self) -> None:
        self.connecting = None
        connecting = self.loop.create_connection(
            lambda: _ServerSide(self), self.route.upstream_host, self.route.upstream_port
        )
        task = asyncio.ensure_future(connecting)
        task.add_done_callback(self._connected)
        self.connect_task = task

    def _connected(self, task: asyncio.Future) -> None:
        if task.cancelled() or task.exception() is not None:
            self.abort()
            return
        transport, _ = task.result()
        if self.ended:
            transport.abort()
            return
        self.server = transport
        self.upstream.attach(transport)

    def maybe_done(self) -> None:
        if self.upstream.finished and self.downstream.finished:
            self.end()

    def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        for direction in (self.upstream, self.downstream):
            direction.cancel()
        if self.connecting is not None:
            self.connecting.cancel()
        for transport in (self.client, self.server):
            if transport is not None:
                transport.close()
        self.proxy._closed(self)

    def abort(self) -> None:
        """Cut both sides with a reset, as the side that reset did."""
        for transport in (self.client, self.server):
            if transport is not None and not transport.is_closing():
                _reset(transport)
        self.end()


class _ClientSide(asyncio.Protocol):
    def __init__(self, proxy: DelayProxy, route: Route):
        self.proxy = proxy
        self.route = route
        self.link: _Link | None = None

    def connection_made(self, transport) -> None:
        self.link = _Link(self.proxy, self.route, transport)

    def data_received(self, data: bytes) -> None:
        self.link.upstream.push(data)

    def eof_received(self) -> bool:
        self.link.upstream.push(_EOF)
        return True  # keep our sending side open: the server may still answer

    def connection_lost(self, exc) -> None:
        if not self.link.ended and not self.link.upstream.finished:
            if exc is not None:
                self.link.upstream.push(_RESET)
            elif not self.link.upstream.queue or self.link.upstream.queue[-1][1] != _EOF:
                self.link.upstream.push(_EOF)


class _ServerSide(asyncio.Protocol):
    def __init__(self, link: _Link):
        self.link = link

    def data_received(self, data: bytes) -> None:
        self.link.downstream.push(data)

    def eof_received(self) -> bool:
        self.link.downstream.push(_EOF)
        return True

    def connection_lost(self, exc) -> None:
        if not self.link.ended and not self.link.downstream.finished:
            if exc is not None:
                self.link.downstream.push(_RESET)
            elif not self.link.downstream.queue or self.link.downstream.queue[-1][1] != _EOF:
                self.link.downstream.push(_EOF)


def _reset(transport: asyncio.Transport) -> None:
    sock = transport.get_extra_info("socket")
    with contextlib.suppress(OSError):
        if sock is not None:  # SO_LINGER 0: close with a reset
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


# -- as processes of its own ----------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """`python -m fleet.latency CONFIG.json`: CONFIG is {"rtt_ms": N, "routes": [[listen_host,
    upstream_host, upstream_port], ...]}. Prints one JSON line {listen_host: [host, port]}
    once listening; on SIGTERM or SIGINT prints one JSON line with the per-route counts
    ("routes") and the proxy's own lateness ("late_ms") and exits."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("config")
    args = parser.parse_args(argv)
    with open(args.config) as file:
        config = json.load(file)
    routes = [Route(host, up_host, int(up_port)) for host, up_host, up_port in config["routes"]]
    proxy = DelayProxy(routes, float(config["rtt_ms"]) / 1000)

    async def run():
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await proxy.listen()
        print(json.dumps(proxy.bound), flush=True)
        await stop.wait()
        proxy.close()
        print(json.dumps({"routes": proxy.snapshot(), "late_ms": proxy.late_ms()}), flush=True)

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
