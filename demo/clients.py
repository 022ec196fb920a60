"""The demo's application clients: kept connected to the servers that list them
(demo/world.py `Server.clients`), so the checks see who connects and how.

Each client connects from its own loopback address (127.0.0.2, .3, …: an "application
host") and stays connected, reconnecting when the server restarts; they stop with the demo.
"""

from __future__ import annotations

import threading
import time

from demo.world import SERVERS
from fleet.clients import PLAINTEXT, ClientLoop, connect_client
from fleet.mariadb import Fleet

# One host per kind of client, the same on every server: "app" hosts as a fleet has them.
SOURCES = {PLAINTEXT: "127.0.0.2", "TLSv1.2": "127.0.0.3", "TLSv1.0": "127.0.0.4"}


def start_clients(fleet: Fleet, *, wait: float = 10.0) -> list[ClientLoop]:
    """Start every client and wait (up to `wait` seconds) until each is connected once."""
    loops = []
    for server in SERVERS:
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
