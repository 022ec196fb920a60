"""Connections without TLS between two checks, from the global counters alone.

When performance_schema is off, nothing names the clients, but `Connections` counts every
connection attempt and `Ssl_accepts` every one that started TLS (docs/reference/mysql-tls.md
"Client connections and their TLS"). Between two checks, their difference less the checker's
own plaintext connections (the canary) is how many connections came without TLS. A server
that restarted in between (Uptime went down) reset the counters: no count then.

Pure module: no Django imports.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CountedConnections:
    connections: int  # all connections between the two readings
    without_tls: int  # of them, those that never started TLS (the checker's own taken off)


def count_between(
    previous: dict, current: dict, own_plaintext: int = 0
) -> CountedConnections | None:
    """None when the two readings cannot be compared (missing, or a restart in between)."""
    names = ("Connections", "Ssl_accepts")
    if not all(name in previous and name in current for name in names):
        return None
    if "Uptime" in previous and "Uptime" in current and current["Uptime"] < previous["Uptime"]:
        return None
    connections = current["Connections"] - previous["Connections"]
    tls = current["Ssl_accepts"] - previous["Ssl_accepts"]
    if connections < 0 or tls < 0:
        return None
    return CountedConnections(connections, max(0, connections - tls - own_plaintext))
