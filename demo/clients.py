"""The demo's application clients (demo/world.py `Server.clients`), so the checks see who
connects and how.

On a real MariaDB server each client is a live connection from its own loopback address
(127.0.0.2, .3, …: an "application host") that stays connected, reconnecting when the server
restarts, and stops with the demo. A MySQL 8 persona (fleet/mysql8/) lists the same clients
in its performance_schema.threads, as application hosts of a VPC.
"""

from __future__ import annotations

import threading
import time

from demo.world import SERVERS, Server, mysql8_version
from fleet.clients import PLAINTEXT, TLS10, TLS12, ClientLoop, connect_client
from fleet.mariadb import Fleet
from fleet.mysql8.world import ClientThread

# One host per kind of client, the same on every server: "app" hosts as a fleet has them.
SOURCES = {PLAINTEXT: "127.0.0.2", "TLSv1.2": "127.0.0.3", "TLSv1.0": "127.0.0.4"}


# What a persona lists for each kind of client: account, host, version and cipher.
PERSONA_CLIENTS = {
    PLAINTEXT: ClientThread("app", "10.0.3.7", "", "", db="app"),
    TLS12: ClientThread("app", "10.0.3.8", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", db="app"),
    TLS10: ClientThread("batch", "10.0.3.9", "TLSv1", "ECDHE-RSA-AES128-SHA", db="app"),
}


def persona_clients(server: Server) -> tuple[ClientThread, ...]:
    return tuple(PERSONA_CLIENTS[how] for how in server.clients)


def start_clients(fleet: Fleet, *, wait: float = 10.0) -> list[ClientLoop]:
    """Start every live client (MariaDB servers) and wait (up to `wait` seconds) until each
    is connected once."""
    loops = []
    for server in (s for s in SERVERS if mysql8_version(s) is None):
        running = fleet[server.name]
        for how in server.clients:
            # Without TLS only the account without REQUIRE SSL gets in.
            account = running.app_plain if how == PLAINTEXT else running.app_ssl

            def connect(running=running, account=account, how=how):
                return connect_client(
                    running, account.username, account.password, how, source=SOURCES[how]
                )

            loops.append(ClientLoop(connect, every=1.0, hold=60.0).start())
    deadline = time.monotonic() + wait
    for loop in loops:
        loop.connected.wait(max(0.0, deadline - time.monotonic()))
    return loops


def stop_clients(loops: list[ClientLoop]) -> None:
    threads = [threading.Thread(target=loop.stop) for loop in loops]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
