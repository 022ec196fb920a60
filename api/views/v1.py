"""GET /api/v1/…: endpoints, findings, certificates and runs, read-only, as JSON.

Views are configuration: filter (api.filters), order, paginate (api.http), build rows
(api.rows). The OpenAPI document (api.openapi) describes exactly these.
"""

from __future__ import annotations

from django.db.models import F

from api.filters import filter_instances
from api.http import ApiError, api_view, json_response, paginated, refuse_repeats
from api.openapi import FILTER_NAMES, openapi_document
from api.rows import certificate_rows, check_run_rows, endpoint_rows, finding_rows, sync_run_rows
from checker.models import CheckRun
from inventory.models import SyncRun
from posture.finding_report import open_findings
from posture.report import REPORT_ORDER, with_report_relations


def _instances(request, visible):
    refuse_repeats(request.GET, FILTER_NAMES)
    filtered = filter_instances(request.GET, visible)
    if filtered.errors:
        raise ApiError(400, "Invalid filters.", filtered.errors)
    return filtered


@api_view
def endpoints(request, visible):
    instances = _instances(request, visible).instances
    queryset = with_report_relations(instances).order_by(*REPORT_ORDER)
    return paginated(request, queryset, endpoint_rows)


@api_view
def endpoint(request, visible, pk: int):
    instance = with_report_relations(visible.instances.filter(pk=pk)).first()
    if instance is None:
        raise ApiError(404, f"No endpoint {pk}.")
    return json_response(endpoint_rows([instance])[0])


@api_view
def findings(request, visible):
    filtered = _instances(request, visible)
    finding = filtered.values.get("finding")
    queryset = open_findings(filtered.instances, [finding] if finding else ())
    if "severity" in filtered.values:
        queryset = queryset.filter(severity=filtered.values["severity"])
    return paginated(request, queryset, finding_rows)


@api_view
def certificates(request, visible):
    instances = _instances(request, visible).instances
    soonest = (F("posture__server_cert_not_after").asc(nulls_last=True), *REPORT_ORDER)
    queryset = with_report_relations(instances, detail=False).order_by(*soonest)
    return paginated(request, queryset, certificate_rows)


def _choice(request, name: str, choices) -> str | None:
    value = request.GET.get(name)
    if value is not None and value not in choices:
        raise ApiError(400, "Invalid filters.", {name: [f"One of {', '.join(choices)}."]})
    return value


def _text(request, name: str) -> str | None:
    value = request.GET.get(name)
    if value is not None and "\x00" in value:
        raise ApiError(400, "Invalid filters.", {name: ["Null characters are not allowed."]})
    return value


@api_view
def sync_runs(request, visible):
    refuse_repeats(request.GET, ("account", "status"))
    runs = visible.sync_runs.select_related("account").prefetch_related("regions")
    if account := _text(request, "account"):
        runs = runs.filter(account__name=account)
    if status := _choice(request, "status", SyncRun.Status.values):
        runs = runs.filter(status=status)
    return paginated(request, runs.order_by("-started_at", "-pk"), sync_run_rows)


@api_view
def check_runs(request, visible):
    refuse_repeats(request.GET, ("status",))
    runs = visible.check_runs
    if status := _choice(request, "status", CheckRun.Status.values):
        runs = runs.filter(status=status)
    return paginated(request, runs.order_by("-started_at", "-pk"), check_run_rows)


@api_view
def not_found(request, visible, path: str = ""):
    """Anything else under /api/v1/ (an id that is not a number): a JSON 404."""
    raise ApiError(404, "No such API URL; /api/v1/openapi.json lists them.")


@api_view
def openapi(request, visible):
    return json_response(openapi_document(request))
