"""Read-only queries behind the pages; a fixed number of queries whatever the fleet size.

Counting happens in the database (GROUP BY, conditional COUNT); Python only arranges the
few result rows. Every query starts from what the user may see (posture.visibility.Visible):
none reads a model's whole table.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Max, Min, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Least, TruncMonth

from dashboard.filtersets import EXPIRY_WINDOWS
from inventory.models import ACTIVE, CACertificate, DBInstance, PendingAction
from posture.catalogue import CATALOGUE, Entry
from posture.grades import EVERY_GRADE, NO_EVIDENCE, SEVERITIES
from posture.models import Finding
from posture.visibility import Visible

# Stands in for a missing date when the earliest of several is wanted (LEAST ignores no NULL
# on SQLite); far enough that it is never the earliest real date.
_NEVER = datetime(9999, 12, 31, tzinfo=UTC)


def home_counts(visible: Visible) -> dict[str, int]:
    current = visible.instances.filter(ACTIVE)
    return {
        "accounts": visible.accounts.count(),
        "instances": current.count(),
        "findings": open_findings(current).count(),
    }


def open_findings(instances: QuerySet[DBInstance]) -> QuerySet[Finding]:
    """Open findings of these endpoints."""
    return Finding.objects.filter(
        resolved_at__isnull=True, instance__in=instances.order_by().values("pk")
    )


def grade_distribution(visible: Visible) -> list[tuple[str, int]]:
    """(grade, endpoints) for every grade, best first, `?` last (never evaluated counts)."""
    counts = Counter()
    rows = visible.instances.filter(ACTIVE).values("posture__grade").annotate(n=Count("pk"))
    for row in rows.order_by():
        counts[row["posture__grade"] or NO_EVIDENCE] += row["n"]
    return [(grade, counts[grade]) for grade in EVERY_GRADE]


def readiness_counts(visible: Visible) -> dict[str, dict[str, int]]:
    """{change: {state: endpoints}} for enforcing TLS and dropping TLS 1.0/1.1, of the
    endpoints this user sees, in one query; an endpoint never evaluated counts as unknown."""
    changes = ("enforce_tls", "drop_legacy_tls")
    counts = {
        change: Counter(dict.fromkeys(("ready", "not-ready", "unknown", "done"), 0))
        for change in changes
    }
    fields = [f"posture__{change}_readiness" for change in changes]
    rows = visible.instances.filter(ACTIVE).values(*fields).annotate(n=Count("pk"))
    for row in rows.order_by():
        for change, field in zip(changes, fields, strict=True):
            counts[change][row[field] or "unknown"] += row["n"]
    return {change: dict(tally) for change, tally in counts.items()}


@dataclass(frozen=True)
class FindingCount:
    entry: Entry
    endpoints: int


def finding_counts(instances: QuerySet[DBInstance]) -> list[FindingCount]:
    """Every catalogue entry with the number of endpoints that have it open (one open row
    per endpoint and id, so rows are endpoints)."""
    rows = open_findings(instances).values("finding_id").annotate(n=Count("pk")).order_by()
    counts = {row["finding_id"]: row["n"] for row in rows}
    return [FindingCount(entry, counts.get(entry.id, 0)) for entry in CATALOGUE]


def severity_counts(instances: QuerySet[DBInstance]) -> list[tuple[str, int]]:
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


def expiry_counts(visible: Visible, now: datetime) -> dict[str, dict[str, int]]:
    """Endpoints whose server certificate / CA has expired, expires within 7, 30, 90 days,
    or is unknown — one query for both."""
    cert = {
        f"cert_{k}": v for k, v in _window_counts("posture__server_cert_not_after", now).items()
    }
    names_a_ca = ~Q(ca_identifier="")
    ca = {
        f"ca_{k}": v for k, v in _window_counts("posture__ca_valid_till", now, names_a_ca).items()
    }
    totals = visible.instances.filter(ACTIVE).aggregate(**cert, **ca)
    return {
        "cert": {k[5:]: v for k, v in totals.items() if k.startswith("cert_")},
        "ca": {k[3:]: v for k, v in totals.items() if k.startswith("ca_")},
    }


def cas_in_use(visible: Visible) -> QuerySet[CACertificate]:
    """CAs with the number of current endpoints using each, soonest expiry first."""
    return (
        visible.cas.annotate(
            endpoints=Count("instances", filter=Q(instances__gone_at__isnull=True))
        )
        .select_related("account")
        .order_by("valid_till", "identifier", "region")
    )


def cas_by_identifier(visible: Visible) -> list[dict]:
    """One row per CA identifier, however many of the visible accounts and regions list it:
    the earliest and latest validity seen (dates differ by region), where it is listed, how
    many current endpoints use it, and whether it is a default for new launches anywhere.
    One query."""
    return list(
        visible.cas.values("identifier")
        .annotate(
            valid_from=Min("valid_till"),
            valid_to=Max("valid_till"),
            listings=Count("pk", distinct=True),
            endpoints=Count("instances", filter=Q(instances__gone_at__isnull=True), distinct=True),
            defaults=Count("pk", filter=Q(default_for_new_launches=True), distinct=True),
        )
        .order_by("valid_from", "identifier")
    )


def pending_rotations(visible: Visible) -> QuerySet[PendingAction]:
    """Pending CA rotations and certificate renewals of current endpoints, soonest first."""
    due = Least(
        Coalesce("current_apply_date", Value(_NEVER)),
        Coalesce("auto_applied_after", Value(_NEVER)),
        Coalesce("forced_apply_date", Value(_NEVER)),
    )
    return (
        visible.pending_actions.filter(instance__gone_at__isnull=True)
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


def expiry_timeline(
    visible: Visible, now: datetime, months: int = 12
) -> tuple[int, list[TimelineMonth]]:
    """(already expired server certificates, the next `months` calendar months)."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = _add_months(start, months)
    active = visible.instances.filter(ACTIVE)
    expired = active.filter(posture__server_cert_not_after__lte=now).count()
    certs = _per_month(
        active.filter(
            posture__server_cert_not_after__gt=now, posture__server_cert_not_after__lt=end
        ),
        "posture__server_cert_not_after",
    )
    rotations = _per_month(
        pending_rotations(visible).filter(due_at__gte=start, due_at__lt=end), "due_at"
    )
    cas: dict[tuple[int, int], list[str]] = {}
    for ca in cas_in_use(visible).filter(
        endpoints__gt=0, valid_till__gte=start, valid_till__lt=end
    ):
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
