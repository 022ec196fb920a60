"""Audit evidence: a printable page and its CSV/XLSX, one row per endpoint per control.
Staff only, like every export (it hands out the fleet's evidence)."""

from django.shortcuts import render
from django.utils import timezone

from dashboard.evidence import CONTROLS, EVIDENCE_COLUMNS, FRAMEWORKS, evidence_rows
from dashboard.exports import evidence_export, export_about, staff_only
from dashboard.filtersets import instance_filters
from dashboard.links import query_with

PRINT_LIMIT = 2000  # rows on the printable page; the files have them all


@staff_only
def evidence_page(request):
    filters = instance_filters(request)
    rows = []
    for row in evidence_rows(filters.qs, timezone.now()):
        if len(rows) == PRINT_LIMIT:
            break
        rows.append(row)
    totals = {
        status: sum(r["status"] == status for r in rows) for status in ("PASS", "FAIL", "UNKNOWN")
    }
    context = {
        "filters": filters,
        "rows": rows,
        "columns": EVIDENCE_COLUMNS,
        "controls": CONTROLS,
        "frameworks": FRAMEWORKS,
        "about": export_about(request, filters, "audit evidence"),
        "totals": totals,
        "truncated": len(rows) == PRINT_LIMIT,
        "export_query": query_with(request.GET),
    }
    return render(request, "dashboard/evidence.html", context)


@staff_only
def evidence_file(request, fmt):
    filters = instance_filters(request)
    about = export_about(request, filters, "audit evidence")
    return evidence_export(evidence_rows(filters.qs, timezone.now()), fmt, about)
