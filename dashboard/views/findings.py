"""The finding catalogue with the endpoints that have each id, and one id's findings."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from dashboard import charts
from dashboard.filtersets import instance_filters
from dashboard.links import instances_url, query_with
from dashboard.listing import render_page, table_listing
from dashboard.queries import finding_counts, severity_counts
from dashboard.tables import FINDING_TABLE, WORKLIST_TABLE, Row, finding_table_rows
from dashboard.worklist import in_fix_first_order, worklist_row
from posture.catalogue import ENTRIES
from posture.finding_report import in_report_order, open_findings


def finding_list(request):
    """The worklist (endpoint × finding, fix first), or with ?view=types the catalogue."""
    if request.GET.get("view") != "types":
        return worklist(request)
    filters = instance_filters(request)
    instances = filters.qs
    severities = severity_counts(instances)
    rows = [
        (
            count,
            reverse("dashboard:instances")
            + query_with(request.GET, finding=count.entry.id, view=None),
            reverse("dashboard:finding", args=[count.entry.id])
            + query_with(request.GET, view=None),
        )
        for count in finding_counts(instances)
    ]
    context = {
        "filters": filters,
        "rows": rows,
        "severity_chart": charts.column_chart(
            "severity-chart",
            "Open findings by severity",
            [
                charts.Bar(
                    severity,
                    n,
                    f"{n} open {severity} findings",
                    f"severity-{severity}",
                    reverse("dashboard:instances")
                    + query_with(request.GET, severity=severity, view=None),
                )
                for severity, n in severities
            ],
        ),
        "export_query": query_with(request.GET, view=None),
        "view": "types",
        "other_view": reverse("dashboard:findings") + query_with(request.GET, view=None),
    }
    return render(request, "dashboard/findings.html", context)


def worklist(request):
    filters = instance_filters(request)
    findings = in_fix_first_order(open_findings(filters.qs))
    listing = table_listing(
        request,
        WORKLIST_TABLE,
        findings,
        rows=lambda page: [Row(f.instance_id, worklist_row(f)) for f in page],
    )
    context = {
        "filters": filters,
        "listing": listing,
        "view": "worklist",
        "other_view": reverse("dashboard:findings") + query_with(request.GET, view="types"),
        "export_query": query_with(request.GET),
    }
    regions = {"worklist-table": "dashboard/partials/worklist_table.html"}
    return render_page(request, "dashboard/findings.html", context, regions=regions)


def finding_detail(request, finding_id):
    entry = ENTRIES.get(finding_id)
    if entry is None:
        raise Http404("No such catalogue id.")
    filters = instance_filters(request)
    findings = in_report_order(open_findings(filters.qs, [finding_id]))
    listing = table_listing(request, FINDING_TABLE, findings, rows=finding_table_rows)
    context = {
        "entry": entry,
        "filters": filters,
        "listing": listing,
        "instances_href": instances_url(finding=finding_id),
        "export_query": query_with(request.GET, finding=finding_id),
    }
    regions = {"finding-table": "dashboard/partials/finding_table.html"}
    return render_page(request, "dashboard/finding.html", context, regions=regions)
