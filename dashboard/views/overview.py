"""The overview: grades, findings, expiries, pending rotations and how fresh it all is."""

from django.shortcuts import render
from django.utils import timezone

from dashboard import charts, queries
from dashboard.display import grade_css, grade_label
from dashboard.freshness import read_freshness
from dashboard.links import instances_url
from dashboard.worklist import fix_first
from inventory.models import ACTIVE, DBInstance
from posture.finding_report import open_findings


def home(request):
    now = timezone.now()
    grades = [
        (grade, count, instances_url(grade=grade)) for grade, count in queries.grade_distribution()
    ]
    findings = [f for f in queries.finding_counts() if f.endpoints]
    findings.sort(key=lambda f: -f.endpoints)
    rotations = queries.pending_rotations()
    context = {
        "counts": queries.home_counts(),
        "grades": grades,
        "grade_chart": charts.column_chart(
            "grade-chart",
            "Current endpoints by grade",
            [
                charts.Bar(
                    grade,
                    count,
                    f"{count} endpoints graded {grade_label(grade)}",
                    grade_css(grade),
                    href,
                )
                for grade, count, href in grades
            ],
        ),
        "findings": findings,
        "finding_chart": charts.row_chart(
            "finding-chart",
            "Endpoints with each open finding",
            [
                charts.Bar(
                    f"{f.entry.id} ({f.entry.severity})",
                    f.endpoints,
                    f"{f.endpoints} endpoints: {f.entry.title}",
                    f"severity-{f.entry.severity}",
                    instances_url(finding=f.entry.id),
                )
                for f in findings
            ],
        ),
        "expiry": _expiry_rows(queries.expiry_counts(now)),
        "pending_href": instances_url(pending="yes"),
        "rotations": list(rotations[:10]),
        "rotation_count": rotations.count(),
        "freshness": read_freshness(now),
        "fix_first": fix_first(open_findings(DBInstance.objects.filter(ACTIVE))),
    }
    return render(request, "dashboard/home.html", context)


# The windows are cumulative (a certificate 5 days from expiry counts in all three): say so.
EXPIRY_ROWS = (
    ("expired", "already expired"),
    ("7", "≤ 7 days"),
    ("30", "≤ 30 days (incl. ≤ 7)"),
    ("90", "≤ 90 days (incl. ≤ 30)"),
    ("unknown", "unknown"),
)


def _expiry_rows(counts):
    """(words, server certificates, their list, CAs, their list) per window."""
    return [
        (
            words,
            counts["cert"][window],
            instances_url(cert_expires=window),
            counts["ca"][window],
            instances_url(ca_expires=window),
        )
        for window, words in EXPIRY_ROWS
    ]
