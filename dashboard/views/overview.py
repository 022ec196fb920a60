"""The overview: grades, findings, expiries, pending rotations and how fresh it all is."""

from django.shortcuts import render
from django.utils import timezone

from dashboard import charts, queries
from dashboard.display import grade_css, grade_label
from dashboard.freshness import read_freshness
from dashboard.links import instances_url
from dashboard.worklist import fix_first
from inventory.models import ACTIVE
from posture.finding_report import open_findings
from posture.visibility import request_visible


def home(request):
    now = timezone.now()
    visible = request_visible(request)
    grades = [
        (grade, count, instances_url(grade=grade))
        for grade, count in queries.grade_distribution(visible)
    ]
    findings = [f for f in queries.finding_counts(visible.instances.filter(ACTIVE)) if f.endpoints]
    findings.sort(key=lambda f: -f.endpoints)
    rotations = queries.pending_rotations(visible)
    context = {
        "counts": queries.home_counts(visible),
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
        "expiry": _expiry_rows(queries.expiry_counts(visible, now)),
        "readiness": _readiness_rows(queries.readiness_counts(visible)),
        "pending_href": instances_url(pending="yes"),
        "rotations": list(rotations[:10]),
        "rotation_count": rotations.count(),
        "freshness": read_freshness(visible, now),
        "fix_first": fix_first(open_findings(visible.instances.filter(ACTIVE))),
    }
    return render(request, "dashboard/home.html", context)


READINESS_ROWS = (
    ("enforce_tls", "Enforce TLS"),
    ("drop_legacy_tls", "Drop TLS 1.0/1.1"),
)
READINESS_STATES = ("ready", "not-ready", "unknown", "done")


def _readiness_rows(counts):
    """(change, [(state, endpoints, their list)]) per change (docs/design.md "Client
    readiness")."""
    return [
        (
            words,
            [
                (state, counts[change][state], instances_url(**{change: state}))
                for state in READINESS_STATES
            ],
        )
        for change, words in READINESS_ROWS
    ]


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
