"""Plain HTTP is for loopback test servers only: one rule for every URL tlsposture fetches.

A cloud API request carries the account's keys (an STS token, an Alibaba AccessKey id and
its signature) in its headers, and a trust bundle decides which servers the checker
believes: neither may cross a network unencrypted. Loopback (127.0.0.0/8, ::1, localhost)
is where the tests and the demo serve their stand-ins.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_ONLY = "plain http is accepted only for loopback hosts (127.0.0.0/8, ::1, localhost)"


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def scheme_problem(scheme: str, host: str | None) -> str | None:
    """Why `scheme://host` may not be used, or None (https anywhere, http on loopback)."""
    scheme = (scheme or "").lower()
    if scheme == "https":
        return None
    if scheme == "http":
        return None if is_loopback_host(host) else f"{LOOPBACK_ONLY}, not {host or 'no host'}"
    return f"only https (or http to loopback) is accepted, not {scheme or 'no scheme'}"


def url_problem(url: str) -> str | None:
    """`scheme_problem` for a whole URL."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return f"{url!r} is not a URL"
    if not host:
        return f"{url!r} names no host"
    return scheme_problem(parts.scheme, host)


def host_of(endpoint: str) -> str:
    """The host of `host`, `host:port`, `[v6]` or `[v6]:port`."""
    endpoint = endpoint.strip()
    if endpoint.startswith("["):
        return endpoint[1 : endpoint.find("]")] if "]" in endpoint else endpoint
    if endpoint.count(":") > 1:  # a bare IPv6 address
        return endpoint
    return endpoint.partition(":")[0]
