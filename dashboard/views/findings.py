"""The finding catalogue with the endpoints that have each id, and one id's findings."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from dashboard import charts
from dashboard.filtersets import instance_filters
from dashboard.links import instances_url, query_with
from dashboard.listing import render_page, table_listing
from dashboard.queries import finding_counts, severity_counts
from dashboard.tables import FINDING_TABLE, finding_table_rows
from posture.catalogue import ENTRIES
from posture.finding_report import in_report_order, open_findings


def finding_list(request):
    filters = instance_filters(request)
    instances = filters.qs
    severities = severity_counts(instances)
    rows = [
        (
            count,
            reverse("dashboard:instances") + query_with(request.GET, finding=count.entry.id),
            reverse("dashboard:finding", args=[count.entry.id]) + query_with(request.GET),
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
                    reverse("dashboard:instances") + query_with(request.GET, severity=severity),
                )
                for severity, n in severities
            ],
        ),
        "export_query": query_with(request.GET),
    }
    return render(request, "dashboard/findings.html", context)


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
