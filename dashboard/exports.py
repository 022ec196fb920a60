"""HTTP responses for the instance and finding exports (CSV, XLSX, JSON), staff only.

CSV and JSON stream a chunk of endpoints at a time (StreamingHttpResponse), so 50,000 rows
never sit in memory. XLSX cannot stream over HTTP (a zip needs its directory at the end):
openpyxl's write-only mode writes it to an anonymous temporary file, which is then sent and
deleted when the response closes it. Column definitions and formula neutralisation are the
report's own (posture.report, posture.finding_report, common.tabular).
"""

from __future__ import annotations

import tempfile
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from common.tabular import write_xlsx
from posture.finding_report import (
    FINDING_COLUMNS,
    findings_csv_lines,
    findings_json,
    iter_finding_rows,
)
from posture.report import REPORT_COLUMNS, iter_report_rows, report_csv_lines, report_json

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def staff_only(view):
    """Exports hand out the whole fleet's evidence: staff only, 403 for everyone else.
    (Anonymous users never get here: the login middleware sends them to log in.)"""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Exports are for staff only.")
        return view(request, *args, **kwargs)

    return wrapper


def _filename(kind: str, fmt: str) -> str:
    return f"tlsposture-{kind}-{timezone.now():%Y%m%dT%H%MZ}.{fmt}"


def _attachment(response: HttpResponse, kind: str, fmt: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{_filename(kind, fmt)}"'
    response["Cache-Control"] = "no-store"
    return response


def _xlsx(columns, rows, kind: str) -> FileResponse:
    spool = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    write_xlsx(spool, columns, rows, title=kind)
    spool.seek(0)
    response = FileResponse(
        spool, as_attachment=True, filename=_filename(kind, "xlsx"), content_type=FORMATS["xlsx"]
    )
    response["Cache-Control"] = "no-store"
    return response


def instances_export(instances: QuerySet, fmt: str) -> HttpResponse:
    """One row per endpoint: the report schema (JSON) or its flat columns (CSV, XLSX)."""
    if fmt == "xlsx":
        return _xlsx(REPORT_COLUMNS, iter_report_rows(instances, detail=False), "instances")
    pieces = report_csv_lines(instances) if fmt == "csv" else report_json(instances)
    response = StreamingHttpResponse(pieces, content_type=FORMATS[fmt])
    return _attachment(response, "instances", fmt)


def findings_export(findings: QuerySet, fmt: str) -> HttpResponse:
    """One row per finding, with its evidence and remediation."""
    if fmt == "xlsx":
        return _xlsx(FINDING_COLUMNS, iter_finding_rows(findings), "findings")
    pieces = findings_csv_lines(findings) if fmt == "csv" else findings_json(findings)
    response = StreamingHttpResponse(pieces, content_type=FORMATS[fmt])
    return _attachment(response, "findings", fmt)
