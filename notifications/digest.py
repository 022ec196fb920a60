"""What one expiry digest says, built from plain rows. No ORM here: queries.py gathers.

Crossing a threshold (thresholds T₁ > … > Tₙ days, e.g. 90, 30, 7):

- A certificate — an endpoint's server certificate, or a CA that an endpoint in scope
  uses — is *listed* while its expiry is known and lies within the largest threshold
  (`not_after <= now + T₁`), expired ones included.
- It is *grouped* by the most urgent bucket it is in: "expired" when `not_after <= now`,
  else the smallest threshold T with `not_after <= now + T`.
- It has *newly crossed* when that bucket is more urgent now than it was at `since` (the
  previous digest, or one period back for a first digest): a threshold boundary
  `not_after - T`, or the expiry itself, fell within (since, now].
- An unknown expiry is never listed, so it is never shown as expired.

Server certificate expiry: the posture engine's value when it has one (it may come from the
wire), else the cloud API's. Pending rotations are all listed, soonest due first, undated
last. Posture changes are those within (since, now]: findings first seen, findings
resolved, and endpoints whose grade ended the window lower than it started. Clients first
seen within (since, now] without TLS or on TLS 1.0/1.1 have a section of their own.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from posture.grades import GRADE_ORDER, grade_rank
from posture.models import SEVERITY_RANK

SERVER_CERTIFICATE = "server certificate"
CERTIFICATE_AUTHORITY = "CA"
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Endpoint:
    instance_id: int
    identifier: str
    account: str
    region: str


@dataclass(frozen=True)
class ServerCertificateRow:
    endpoint: Endpoint
    posture_not_after: datetime | None
    posture_source: str
    inventory_not_after: datetime | None
    inventory_source: str


@dataclass(frozen=True)
class CertificateAuthorityRow:
    identifier: str
    account: str
    region: str
    valid_till: datetime | None
    used_by: tuple[str, ...]


@dataclass(frozen=True)
class PendingActionRow:
    endpoint: Endpoint
    action: str
    due: datetime | None
    description: str


@dataclass(frozen=True)
class FindingRow:
    endpoint: Endpoint
    finding_id: str
    severity: str
    first_seen: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class GradeChangeRow:
    endpoint: Endpoint
    previous: str
    grade: str
    changed_at: datetime


@dataclass(frozen=True)
class ClientRow:
    """A client (account@host) first seen without TLS or on TLS 1.0/1.1 (checker evidence)."""

    endpoint: Endpoint
    client: str  # account@host
    tls_version: str  # "" = without TLS
    first_seen: datetime
    connections: int

    @property
    def how(self) -> str:
        return f"on {self.tls_version}" if self.tls_version else "without TLS"


@dataclass(frozen=True)
class DigestRows:
    """Everything in scope that a digest may mention; gathered by queries.py."""

    server_certificates: list[ServerCertificateRow] = field(default_factory=list)
    certificate_authorities: list[CertificateAuthorityRow] = field(default_factory=list)
    pending_actions: list[PendingActionRow] = field(default_factory=list)
    findings: list[FindingRow] = field(default_factory=list)
    grade_changes: list[GradeChangeRow] = field(default_factory=list)
    clients: list[ClientRow] = field(default_factory=list)


def _whole_days(span: timedelta) -> int:
    return math.floor(span / _DAY)


def _relative(remaining: timedelta) -> str:
    """ "in 4 days", "in less than a day", "today", "2 days ago" (whole days, rounded down)."""
    if remaining > timedelta(0):
        days = _whole_days(remaining)
        return "in less than a day" if days == 0 else f"in {days} day{'s' * (days != 1)}"
    days = _whole_days(-remaining)
    return "less than a day ago" if days == 0 else f"{days} day{'s' * (days != 1)} ago"


@dataclass(frozen=True)
class ExpiringCertificate:
    kind: str
    name: str
    account: str
    region: str
    not_after: datetime
    source: str
    endpoint: Endpoint | None = None
    used_by: tuple[str, ...] = ()
    # Filled in by build_digest, relative to its `now` and `since`.
    remaining: timedelta = timedelta(0)
    newly_crossed: bool = False

    @property
    def days_left(self) -> int:
        return _whole_days(self.remaining)

    @property
    def relative(self) -> str:
        return _relative(self.remaining)


@dataclass(frozen=True)
class ExpiryGroup:
    within_days: int | None  # None: already expired
    certificates: tuple[ExpiringCertificate, ...]

    @property
    def label(self) -> str:
        return "Expired" if self.within_days is None else f"Within {self.within_days} days"


@dataclass(frozen=True)
class DueRotation:
    endpoint: Endpoint
    action: str
    due: datetime | None
    description: str
    remaining: timedelta | None  # negative when overdue; None when no date is known

    @property
    def days_left(self) -> int | None:
        return None if self.remaining is None else _whole_days(self.remaining)

    @property
    def relative(self) -> str:
        return "" if self.remaining is None else _relative(self.remaining)


@dataclass(frozen=True)
class GradeDrop:
    endpoint: Endpoint
    from_grade: str
    to_grade: str
    changed_at: datetime


@dataclass(frozen=True)
class Digest:
    now: datetime
    since: datetime
    thresholds_days: tuple[int, ...]
    expiry_groups: tuple[ExpiryGroup, ...]  # non-empty groups, most urgent first
    rotations: tuple[DueRotation, ...]
    new_findings: tuple[FindingRow, ...]
    resolved_findings: tuple[FindingRow, ...]
    grade_drops: tuple[GradeDrop, ...]
    # Clients first seen without TLS or on TLS 1.0/1.1 within (since, now]; plaintext first.
    new_clients: tuple[ClientRow, ...] = ()

    @property
    def has_newly_crossed(self) -> bool:
        return any(c.newly_crossed for g in self.expiry_groups for c in g.certificates)

    @property
    def has_changes(self) -> bool:
        return bool(self.new_findings or self.resolved_findings or self.grade_drops)

    @property
    def is_empty(self) -> bool:
        return not (self.expiry_groups or self.rotations or self.has_changes or self.new_clients)

    @property
    def summary(self) -> str:
        parts = [f"{len(g.certificates)} {g.label.lower()}" for g in self.expiry_groups]
        for count, noun in [
            (len(self.rotations), "pending rotation"),
            (len(self.new_findings), "new finding"),
            (len(self.resolved_findings), "resolved finding"),
            (len(self.grade_drops), "grade drop"),
            (sum(not c.tls_version for c in self.new_clients), "new client without TLS"),
            (sum(bool(c.tls_version) for c in self.new_clients), "new client on TLS 1.0/1.1"),
        ]:
            if count:
                parts.append(f"{count} {noun}{'' if count == 1 else 's'}")
        return ", ".join(parts) or "nothing expiring, no changes"


def build_digest(
    rows: DigestRows, *, now: datetime, since: datetime, thresholds_days: list[int]
) -> Digest:
    thresholds = tuple(sorted({int(t) for t in thresholds_days if int(t) > 0}, reverse=True))
    if not thresholds:
        raise ValueError("at least one positive threshold is needed")
    listed = []
    for cert in [
        *(c for r in rows.server_certificates if (c := _server_certificate(r))),
        *(c for r in rows.certificate_authorities if (c := _certificate_authority(r))),
    ]:
        bucket = _bucket(cert.not_after, now, thresholds)
        if bucket <= len(thresholds):
            timed = replace(
                cert,
                remaining=cert.not_after - now,
                newly_crossed=bucket < _bucket(cert.not_after, since, thresholds),
            )
            listed.append((bucket, timed))
    groups = []
    for bucket in sorted({b for b, _ in listed}):
        members = sorted(
            (c for b, c in listed if b == bucket), key=lambda c: (c.not_after, c.kind, c.name)
        )
        within = None if bucket == 0 else thresholds[-bucket]
        groups.append(ExpiryGroup(within_days=within, certificates=tuple(members)))

    in_window = [f for f in rows.findings if since < f.first_seen <= now]
    resolved = [f for f in rows.findings if f.resolved_at and since < f.resolved_at <= now]
    return Digest(
        now=now,
        since=since,
        thresholds_days=thresholds,
        expiry_groups=tuple(groups),
        rotations=tuple(_rotations(rows.pending_actions, now)),
        new_findings=tuple(sorted(in_window, key=_finding_order)),
        resolved_findings=tuple(sorted(resolved, key=_finding_order)),
        grade_drops=tuple(_grade_drops(rows.grade_changes, since, now)),
        new_clients=tuple(
            sorted(
                (c for c in rows.clients if since < c.first_seen <= now),
                key=lambda c: (bool(c.tls_version), c.first_seen, c.endpoint.identifier, c.client),
            )
        ),
    )


def _server_certificate(row: ServerCertificateRow) -> ExpiringCertificate | None:
    if row.posture_not_after is not None:
        not_after, source = row.posture_not_after, row.posture_source
    elif row.inventory_not_after is not None:
        not_after, source = row.inventory_not_after, row.inventory_source
    else:
        return None
    e = row.endpoint
    return ExpiringCertificate(
        SERVER_CERTIFICATE, e.identifier, e.account, e.region, not_after, source, endpoint=e
    )


def _certificate_authority(row: CertificateAuthorityRow) -> ExpiringCertificate | None:
    if row.valid_till is None:
        return None
    return ExpiringCertificate(
        CERTIFICATE_AUTHORITY,
        row.identifier,
        row.account,
        row.region,
        row.valid_till,
        "api",
        used_by=tuple(sorted(row.used_by)),
    )


def _bucket(not_after: datetime, at: datetime, thresholds: tuple[int, ...]) -> int:
    """0 expired, 1 within the smallest threshold, …, len(thresholds)+1 not listed."""
    if not_after <= at:
        return 0
    within = [t for t in thresholds if not_after <= at + timedelta(days=t)]
    return len(thresholds) + 1 - len(within)


def _rotations(rows: list[PendingActionRow], now: datetime) -> list[DueRotation]:
    ordered = sorted(
        rows,
        key=lambda r: (r.due is None, r.due or now, r.endpoint.identifier, r.action),
    )
    return [
        DueRotation(
            endpoint=r.endpoint,
            action=r.action,
            due=r.due,
            description=r.description,
            remaining=None if r.due is None else r.due - now,
        )
        for r in ordered
    ]


def _finding_order(row: FindingRow):
    return (SEVERITY_RANK.get(row.severity, 99), row.endpoint.identifier, row.finding_id)


def _grade_drops(rows: list[GradeChangeRow], since: datetime, now: datetime) -> list[GradeDrop]:
    """Net change per endpoint over the window: A→C→B is a drop to B, A→C→A none."""
    per_endpoint = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.changed_at):
        if since < row.changed_at <= now:
            per_endpoint[row.endpoint].append(row)
    drops = []
    for endpoint, changes in per_endpoint.items():
        start, end = changes[0].previous, changes[-1].grade
        # "?" (no evidence) and a first grade are not comparable: not a drop.
        if (
            start in GRADE_ORDER
            and end in GRADE_ORDER
            and GRADE_ORDER.index(end) > GRADE_ORDER.index(start)
        ):
            drops.append(GradeDrop(endpoint, start, end, changes[-1].changed_at))
    return sorted(drops, key=lambda d: (-grade_rank(d.to_grade), d.endpoint.identifier))
