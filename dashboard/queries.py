"""Read-only queries behind the pages; a fixed number of queries whatever the fleet size.

Counting happens in the database (GROUP BY, conditional COUNT); Python only arranges the
few result rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Max, Min, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Least, TruncMonth

from dashboard.filtersets import EXPIRY_WINDOWS
from inventory.models import ACTIVE, CACertificate, CloudAccount, DBInstance, PendingAction
from posture.catalogue import CATALOGUE, Entry
from posture.grades import EVERY_GRADE, NO_EVIDENCE, SEVERITIES
from posture.models import Finding

# Stands in for a missing date when the earliest of several is wanted (LEAST ignores no NULL
# on SQLite); far enough that it is never the earliest real date.
_NEVER = datetime(9999, 12, 31, tzinfo=UTC)


def home_counts() -> dict[str, int]:
    return {
        "accounts": CloudAccount.objects.count(),
        "instances": DBInstance.objects.filter(ACTIVE).count(),
        "findings": open_findings().count(),
    }


def open_findings(instances: QuerySet[DBInstance] | None = None) -> QuerySet[Finding]:
    """Open findings of current endpoints, or of these endpoints."""
    if instances is None:
        return Finding.objects.filter(resolved_at__isnull=True, instance__gone_at__isnull=True)
    return Finding.objects.filter(
        resolved_at__isnull=True, instance__in=instances.order_by().values("pk")
    )


def grade_distribution() -> list[tuple[str, int]]:
    """(grade, endpoints) for every grade, best first, `?` last (never evaluated counts)."""
    counts = Counter()
    rows = DBInstance.objects.filter(ACTIVE).values("posture__grade").annotate(n=Count("pk"))
    for row in rows.order_by():
        counts[row["posture__grade"] or NO_EVIDENCE] += row["n"]
    return [(grade, counts[grade]) for grade in EVERY_GRADE]


@dataclass(frozen=True)
class FindingCount:
    entry: Entry
    endpoints: int


def finding_counts(instances: QuerySet[DBInstance] | None = None) -> list[FindingCount]:
    """Every catalogue entry with the number of endpoints that have it open (one open row
    per endpoint and id, so rows are endpoints)."""
    rows = open_findings(instances).values("finding_id").annotate(n=Count("pk")).order_by()
    counts = {row["finding_id"]: row["n"] for row in rows}
    return [FindingCount(entry, counts.get(entry.id, 0)) for entry in CATALOGUE]


def severity_counts(instances: QuerySet[DBInstance] | None = None) -> list[tuple[str, int]]:
    rows = open_findings(instances).values("severity").annotate(n=Count("pk")).order_by()
    counts = {row["severity"]: row["n"] for row in rows}
    return [(severity, counts.get(severity, 0)) for severity in SEVERITIES]


def _window_counts(field: str, now: datetime, applies: Q | None = None) -> dict:
    # `applies`: which endpoints have such a certificate at all. An ApsaraDB instance or an
    # RDS Proxy names no CA in its API; that is "not applicable", not "unknown".
    unknown = Q(**{f"{field}__isnull": True}) & (applies or Q())
    counts = {
        "expired": Count("pk", filter=Q(**{f"{field}__lte": now})),
        "unknown": Count("pk", filter=unknown),
    }
    for days in EXPIRY_WINDOWS:
        window = Q(**{f"{field}__gt": now, f"{field}__lte": now + timedelta(days=days)})
        counts[str(days)] = Count("pk", filter=window)
    return counts


def expiry_counts(now: datetime) -> dict[str, dict[str, int]]:
    """Endpoints whose server certificate / CA has expired, expires within 7, 30, 90 days,
    or is unknown — one query for both."""
    cert = {
        f"cert_{k}": v for k, v in _window_counts("posture__server_cert_not_after", now).items()
    }
    names_a_ca = ~Q(ca_identifier="")
    ca = {
        f"ca_{k}": v for k, v in _window_counts("posture__ca_valid_till", now, names_a_ca).items()
    }
    totals = DBInstance.objects.filter(ACTIVE).aggregate(**cert, **ca)
    return {
        "cert": {k[5:]: v for k, v in totals.items() if k.startswith("cert_")},
        "ca": {k[3:]: v for k, v in totals.items() if k.startswith("ca_")},
    }


def cas_in_use() -> QuerySet[CACertificate]:
    """CAs with the number of current endpoints using each, soonest expiry first."""
    return (
        CACertificate.objects.annotate(
            endpoints=Count("instances", filter=Q(instances__gone_at__isnull=True))
        )
        .select_related("account")
        .order_by("valid_till", "identifier", "region")
    )


def cas_by_identifier() -> list[dict]:
    """One row per CA identifier, however many accounts and regions list it: the earliest and
    latest validity seen (dates differ by region), where it is listed, how many current
    endpoints use it, and whether it is a default for new launches anywhere. One query."""
    return list(
        CACertificate.objects.values("identifier")
        .annotate(
            valid_from=Min("valid_till"),
            valid_to=Max("valid_till"),
            listings=Count("pk", distinct=True),
            endpoints=Count("instances", filter=Q(instances__gone_at__isnull=True), distinct=True),
            defaults=Count("pk", filter=Q(default_for_new_launches=True), distinct=True),
        )
        .order_by("valid_from", "identifier")
    )


def pending_rotations() -> QuerySet[PendingAction]:
    """Pending CA rotations and certificate renewals of current endpoints, soonest first."""
    due = Least(
        Coalesce("current_apply_date", Value(_NEVER)),
        Coalesce("auto_applied_after", Value(_NEVER)),
        Coalesce("forced_apply_date", Value(_NEVER)),
    )
    return (
        PendingAction.objects.filter(instance__gone_at__isnull=True)
        .select_related("instance__account")
        .annotate(due_at=due)
        .order_by("due_at", "instance__identifier", "pk")
    )


@dataclass(frozen=True)
class TimelineMonth:
    month: datetime
    certificates: int  # server certificates expiring in the month
    rotations: int  # pending rotations falling due in the month
    cas: tuple[str, ...]  # CAs (in use) expiring in the month


def expiry_timeline(now: datetime, months: int = 12) -> tuple[int, list[TimelineMonth]]:
    """(already expired server certificates, the next `months` calendar months)."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = _add_months(start, months)
    active = DBInstance.objects.filter(ACTIVE)
    expired = active.filter(posture__server_cert_not_after__lte=now).count()
    certs = _per_month(
        active.filter(
            posture__server_cert_not_after__gt=now, posture__server_cert_not_after__lt=end
        ),
        "posture__server_cert_not_after",
    )
    rotations = _per_month(pending_rotations().filter(due_at__gte=start, due_at__lt=end), "due_at")
    cas: dict[tuple[int, int], list[str]] = {}
    for ca in cas_in_use().filter(endpoints__gt=0, valid_till__gte=start, valid_till__lt=end):
        key = (ca.valid_till.year, ca.valid_till.month)
        if ca.identifier not in cas.setdefault(key, []):
            cas[key].append(ca.identifier)
    timeline = []
    month = start
    while month < end:
        key = (month.year, month.month)
        timeline.append(
            TimelineMonth(month, certs.get(key, 0), rotations.get(key, 0), tuple(cas.get(key, ())))
        )
        month = _add_months(month, 1)
    return expired, timeline


def _per_month(queryset: QuerySet, field: str) -> dict[tuple[int, int], int]:
    rows = queryset.annotate(month=TruncMonth(field)).values("month").annotate(n=Count("pk"))
    return {(row["month"].year, row["month"].month): row["n"] for row in rows.order_by()}


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    return moment.replace(year=moment.year + index // 12, month=index % 12 + 1)
