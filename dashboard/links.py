"""Links to pre-filtered lists: every count on a page is a link to the rows it counts."""

from __future__ import annotations

from django.http import QueryDict
from django.urls import reverse


def instances_url(**filters) -> str:
    return _with_query(reverse("dashboard:instances"), filters)


def _with_query(path: str, filters: dict) -> str:
    query = QueryDict(mutable=True)
    for key, value in filters.items():
        if value not in (None, ""):
            query[key] = str(value)
    return f"{path}?{query.urlencode()}" if query else path


def query_with(params: QueryDict, **changes) -> str:
    """`?…` of these parameters with some changed (None removes one); empty values dropped,
    so URLs stay short and mean the same thing however they were made."""
    query = QueryDict(mutable=True)
    for key, values in params.lists():
        kept = [v for v in values if v != ""]
        if kept and key not in changes:
            query.setlist(key, kept)
    for key, value in changes.items():
        if value not in (None, ""):
            query[key] = str(value)
    return f"?{query.urlencode()}" if query else "?"
