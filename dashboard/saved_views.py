"""Ready-made views of a list: the filter combinations people come back to, one click each.
They are links with query strings, so a view is also a bookmark and a URL to share.
(Views a user names and saves are not built yet.)"""

from __future__ import annotations

from django.conf import settings
from django.http import QueryDict

VIEWS = (
    ("Critical findings", {"severity": "critical"}),
    ("Grade F", {"grade": "F"}),
    ("TLS not enforced", {"enforcement": "not-enforced"}),
    ("Certificate ≤ 30 days", {"cert_expires": "30"}),
    ("Could not be checked", {"check": "could-not-run"}),
)


def saved_views(action: str) -> list[tuple[str, str]]:
    views = list(VIEWS)
    if settings.TLSPOSTURE.get("ENVIRONMENT_TAG"):
        views.insert(0, ("Production", {"environment": "prod"}))
    links = []
    for label, params in views:
        query = QueryDict(mutable=True)
        query.update(params)
        links.append((label, f"{action}?{query.urlencode()}"))
    return links
