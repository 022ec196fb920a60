"""Views of a list people come back to, one click each: ready-made ones (presets) for
everyone, and the ones a user names and keeps (`SavedView`, the endpoint list only).

Both are links with query strings, so a view is also a bookmark and a URL to share; a
kept view's query is read through the filterset again each time it is opened, so a stale
or hostile one shows the filter errors like any other URL would.
"""

from __future__ import annotations

from django.conf import settings
from django.http import QueryDict

from dashboard.models import SavedView

VIEWS = (
    ("Critical findings", {"severity": "critical"}),
    ("Grade F", {"grade": "F"}),
    ("TLS not enforced", {"enforcement": "not-enforced"}),
    ("Certificate ≤ 30 days", {"cert_expires": "30"}),
    ("Could not be checked", {"check": "could-not-run"}),
)


def saved_views(action: str) -> list[tuple[str, str]]:
    """The ready-made views: (label, link)."""
    views = list(VIEWS)
    if settings.TLSPOSTURE.get("ENVIRONMENT_TAG"):
        views.insert(0, ("Production", {"environment": "prod"}))
    links = []
    for label, params in views:
        query = QueryDict(mutable=True)
        query.update(params)
        links.append((label, f"{action}?{query.urlencode()}"))
    return links


def users_views(user) -> list[SavedView]:
    """The views this user kept, by name (nobody else's)."""
    return list(SavedView.objects.filter(user=user))
