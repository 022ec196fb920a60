"""The client address of a request, for login throttling (django-axes).

REMOTE_ADDR, unless it is one of TLSPOSTURE_TRUSTED_PROXIES: then the nearest address in
X-Forwarded-For that is not a trusted proxy itself (read from the right, since a client can
put anything at the left end). Without trusted proxies the header is ignored, so nobody
escapes throttling by sending one.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings


@cache
def _networks(entries: tuple[str, ...]):
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    if not remote or not _trusted(remote):
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if not _trusted(address):
            return address
    return remote
