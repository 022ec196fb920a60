"""Sync runs with each region's outcome and errors, and check runs."""

from django.core.paginator import Paginator
from django.shortcuts import render

from dashboard.links import query_with
from posture.visibility import request_visible

RUNS_PER_PAGE = 25


def _page(request, queryset, param):
    page = Paginator(queryset, RUNS_PER_PAGE).get_page(request.GET.get(param))
    newer = older = None
    if page.has_previous():
        newer = query_with(request.GET, **{param: page.previous_page_number()})
    if page.has_next():
        older = query_with(request.GET, **{param: page.next_page_number()})
    return {"page": page, "newer": newer, "older": older}


def runs(request):
    visible = request_visible(request)
    syncs = visible.sync_runs.select_related("account").prefetch_related("regions")
    checks = visible.check_runs
    context = {
        "syncs": _page(request, syncs.order_by("-started_at", "-pk"), "sync_page"),
        "checks": _page(request, checks.order_by("-started_at", "-pk"), "check_page"),
    }
    return render(request, "dashboard/runs.html", context)
