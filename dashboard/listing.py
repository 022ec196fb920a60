"""Sorted, paginated tables that HTMX can swap in place: what every list page shares.

A list page is a full page without JavaScript: sortable headers and page numbers are
plain links carrying the whole state in the query string. With HTMX they ask for the same
URL with `HX-Request` and the id of the region they replace (`HX-Target`); the view then
renders only that region and tells HTMX (`HX-Push-Url`) the address to show, so the
address bar keeps the state. History restores and other requests get the full page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import QueryDict
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from dashboard.links import query_with
from dashboard.tables import DEFAULT_PER_PAGE, PER_PAGE_CHOICES, Ordering, Row, Table


@dataclass(frozen=True)
class Header:
    key: str
    header: str
    href: str | None  # None: not sortable
    sorted: str  # "ascending" | "descending" | "" (the aria-sort value)


@dataclass
class Listing:
    table: Table
    ordering: Ordering
    page: Page
    rows: list[Row]
    per_page: int
    params: QueryDict
    page_param: str = "page"

    @property
    def columns(self):
        """The columns shown: the ones chosen (`?cols=`), else all but the hidden ones."""
        return self.table.visible(self.params.getlist("cols"))

    @property
    def column_choices(self) -> list[tuple[str, bool, str]]:
        """(header, shown, the link that shows or hides it) of every column but the first:
        the column chooser, as links, so it works without a script."""
        shown = [c.key for c in self.columns]
        choices = []
        for column in self.table.columns[1:]:
            keys = [k for k in shown if k != column.key]
            if column.key not in shown:
                keys.append(column.key)
            query = self.params.copy()
            query.setlist("cols", keys)
            choices.append((column.header, column.key in shown, query_with(query)))
        return choices

    @property
    def per_page_param(self) -> str:
        """The `per_page` the filter form carries: none for the default, to keep URLs short."""
        return "" if self.per_page == DEFAULT_PER_PAGE else str(self.per_page)

    @property
    def sort_param(self) -> str:
        if not self.ordering.key:
            return ""
        return ("-" if self.ordering.descending else "") + self.ordering.key

    @property
    def headers(self) -> list[Header]:
        headers = []
        for column in self.columns:
            href = None
            if column.sortable:
                sort = self.ordering.param_for(column.key)
                href = query_with(self.params, sort=sort, **{self.page_param: None})
            state = ""
            if column.key == self.ordering.key:
                state = "descending" if self.ordering.descending else "ascending"
            headers.append(Header(column.key, column.header, href, state))
        return headers

    def page_href(self, number: int) -> str:
        return query_with(self.params, **{self.page_param: number if number > 1 else None})

    @property
    def page_links(self) -> list[tuple[int | None, str | None]]:
        """(number, href) around the current page, with None for a gap."""
        page, last = self.page.number, self.page.paginator.num_pages
        numbers = sorted({1, last, *range(max(1, page - 2), min(last, page + 2) + 1)})
        links, previous = [], 0
        for number in numbers:
            if number - previous > 1:
                links.append((None, None))
            links.append((number, self.page_href(number)))
            previous = number
        return links

    @property
    def previous_href(self) -> str | None:
        return self.page_href(self.page.number - 1) if self.page.has_previous() else None

    @property
    def next_href(self) -> str | None:
        return self.page_href(self.page.number + 1) if self.page.has_next() else None

    @property
    def per_page_links(self) -> list[tuple[int, str]]:
        return [
            (size, query_with(self.params, per_page=size, **{self.page_param: None}))
            for size in PER_PAGE_CHOICES
        ]


def per_page_from(params: QueryDict) -> int:
    try:
        value = int(params.get("per_page", DEFAULT_PER_PAGE))
    except ValueError:
        return DEFAULT_PER_PAGE
    return value if value in PER_PAGE_CHOICES else DEFAULT_PER_PAGE


def table_listing(
    request,
    table: Table,
    queryset: QuerySet,
    *,
    rows: Callable[[Iterable], list[Row]],
    page_param: str = "page",
) -> Listing:
    """Order by the `sort` parameter, cut out the page asked for (the last one when past
    it), and build its rows: a count and one query (plus its prefetches) per page."""
    ordering = table.ordering(request.GET.get("sort"))
    per_page = per_page_from(request.GET)
    paginator = Paginator(queryset.order_by(*ordering.order_by), per_page)
    page = paginator.get_page(request.GET.get(page_param))
    return Listing(table, ordering, page, rows(page.object_list), per_page, request.GET, page_param)


def wants_region(request, region_id: str) -> bool:
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Target") == region_id
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render_page(request, template: str, context: dict, *, regions: dict[str, str]):
    """Render `template`, or only the region HTMX asked for (`regions`: id → template)."""
    region = next((r for r in regions if wants_region(request, r)), None)
    response = render(request, regions[region] if region else template, context)
    if region:
        response["HX-Push-Url"] = request.path + query_with(request.GET).rstrip("?")
    # One URL answers with a page or a region: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
