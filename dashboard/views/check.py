""" "Check now": a POST that starts a check, and the status region that polls for its result."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from common.timeutil import parse_iso
from dashboard import check_now
from dashboard.listing import wants_region
from posture.visibility import request_visible

REGION = "check-status"


def _instance(request, pk):
    # Another team's endpoint is a 404, as if it did not exist (README "Access").
    instances = request_visible(request).instances.select_related("posture", "check_state")
    return get_object_or_404(instances, pk=pk)


def _status(request, instance, progress, started=None):
    context = {
        "instance": instance,
        "progress": progress,
        "started": started,
        # With the result, HTMX also replaces the grade in the page's heading.
        "swap_headline": request.headers.get("HX-Request") == "true",
    }
    return render(request, "dashboard/partials/check_status.html", context)


@require_POST
def check_now_start(request, pk):
    instance = _instance(request, pk)
    started = check_now.request_check(instance)
    if wants_region(request, REGION):
        return _status(request, instance, check_now.progress(instance, started.since), started)
    if started.started:
        messages.info(request, "Check started; reload this page in a few seconds for the result.")
    else:
        messages.info(request, "A check of this endpoint is already running.")
    return redirect("dashboard:instance", pk=pk)


@require_GET
def check_now_status(request, pk):
    instance = _instance(request, pk)
    since = parse_iso(request.GET.get("since")) or timezone.now()
    return _status(request, instance, check_now.progress(instance, since))
