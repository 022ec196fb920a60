"""How old the data is, per account and region: the overview's stale-data banner.

A grade is only as good as the sync and the check behind it. For every account and region
this reads the last successful sync (SyncRegion ok), the latest failed one with its error,
the last check of any endpoint there and how many endpoints' last check could not run
(unreachable, timeout, the checker's login; a failed TLS verification is posture, not a
failed check) or were never checked; and per account the latest sync run when it failed as
a whole (credentials, no regions). Data older than TLSPOSTURE["STALE_AFTER_HOURS"] is stale.

Six queries, whatever the number of endpoints, accounts or runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, OuterRef, Q, Subquery

from checker.models import CheckRun
from dashboard.filtersets import COULD_NOT_RUN
from inventory.models import ACTIVE, SyncRegion, SyncRun
from posture.models import evaluation_behind
from posture.visibility import Visible


@dataclass
class RegionFreshness:
    account: str
    region: str
    endpoints: int = 0
    last_sync_ok: datetime | None = None
    last_sync_failed: datetime | None = None
    sync_error: str = ""
    sync_warnings: list = field(default_factory=list)
    last_checked: datetime | None = None
    # Checks that could not run (unreachable, timeout, checker login): never a TLS
    # verification failure, which is posture (filtersets.COULD_NOT_RUN).
    failed_checks: int = 0
    never_checked: int = 0
    # Endpoints whose stored grade is older than their newest evidence (a lost evaluation).
    evaluation_behind: int = 0
    stale_sync: bool = False
    stale_check: bool = False

    @property
    def sync_failing(self) -> bool:
        """The latest sync of this region failed (an older failure was since repaired)."""
        return self.last_sync_failed is not None and (
            self.last_sync_ok is None or self.last_sync_failed > self.last_sync_ok
        )

    @property
    def needs_attention(self) -> bool:
        return (
            self.stale_sync
            or self.stale_check
            or self.sync_failing
            or self.failed_checks > 0
            or self.never_checked > 0
            or self.evaluation_behind > 0
        )


@dataclass
class AccountFailure:
    account: str
    at: datetime
    status: str
    error: str


@dataclass
class Freshness:
    stale_after: timedelta
    regions: list[RegionFreshness]
    account_failures: list[AccountFailure]
    never_synced: list[str]
    last_check_run: CheckRun | None
    last_failed_check_run: CheckRun | None

    @property
    def stale_hours(self) -> int:
        return round(self.stale_after.total_seconds() / 3600)

    @property
    def needs_attention(self) -> list[RegionFreshness]:
        return [r for r in self.regions if r.needs_attention]

    @property
    def banner(self) -> bool:
        return bool(
            self.needs_attention
            or self.account_failures
            or self.never_synced
            or self.check_run_failing
        )

    @property
    def check_run_failing(self) -> bool:
        failed, last = self.last_failed_check_run, self.last_check_run
        return failed is not None and last is not None and failed.pk == last.pk


def read_freshness(visible: Visible, now: datetime) -> Freshness:
    stale_after = timedelta(hours=settings.TLSPOSTURE["STALE_AFTER_HOURS"])
    regions: dict[tuple[str, str], RegionFreshness] = {}

    def region(account: str, name: str) -> RegionFreshness:
        return regions.setdefault((account, name), RegionFreshness(account, name))

    endpoints = (
        visible.instances.filter(ACTIVE)
        .values("account__name", "region")
        .annotate(
            n=Count("pk"),
            last_checked=Max("check_state__last_checked"),
            failed=Count("pk", filter=Q(check_state__status__in=COULD_NOT_RUN)),
            never=Count(
                "pk",
                filter=Q(check_state__isnull=True) | Q(check_state__last_checked__isnull=True),
            ),
            behind=Count("pk", filter=evaluation_behind()),
        )
        .order_by()
    )
    for row in endpoints:
        entry = region(row["account__name"], row["region"])
        entry.endpoints, entry.last_checked = row["n"], row["last_checked"]
        entry.failed_checks, entry.never_checked = row["failed"], row["never"]
        entry.evaluation_behind = row["behind"]

    syncs = (
        SyncRegion.objects.filter(run__in=visible.sync_runs)
        .values("run__account__name", "region")
        .annotate(
            ok=Max("finished_at", filter=Q(status=SyncRegion.Status.OK)),
            failed=Max("finished_at", filter=Q(status=SyncRegion.Status.FAILED)),
        )
        .order_by()
    )
    for row in syncs:
        entry = region(row["run__account__name"], row["region"])
        entry.last_sync_ok, entry.last_sync_failed = row["ok"], row["failed"]

    # The newest outcome of each region, for its error or warnings.
    newest = SyncRegion.objects.filter(
        run__account_id=OuterRef("run__account_id"), region=OuterRef("region")
    ).order_by("-finished_at", "-pk")
    latest = SyncRegion.objects.filter(
        run__in=visible.sync_runs, pk=Subquery(newest.values("pk")[:1])
    ).values("run__account__name", "region", "status", "error", "warnings")
    for row in latest:
        entry = region(row["run__account__name"], row["region"])
        if row["status"] == SyncRegion.Status.FAILED:
            entry.sync_error = row["error"]
        entry.sync_warnings = row["warnings"] or []

    for entry in regions.values():
        entry.stale_sync = entry.last_sync_ok is None or now - entry.last_sync_ok > stale_after
        entry.stale_check = entry.endpoints > 0 and (
            entry.last_checked is None or now - entry.last_checked > stale_after
        )

    last_run = SyncRun.objects.filter(account=OuterRef("pk")).order_by("-started_at", "-pk")
    accounts = visible.accounts.filter(enabled=True).annotate(
        run_status=Subquery(last_run.values("status")[:1]),
        run_error=Subquery(last_run.values("error")[:1]),
        run_at=Subquery(last_run.values("started_at")[:1]),
    )
    failures, never_synced = [], []
    for account in accounts.order_by("name"):
        if account.run_at is None:
            never_synced.append(account.name)
        elif account.run_status == SyncRun.Status.FAILED:
            failures.append(
                AccountFailure(account.name, account.run_at, account.run_status, account.run_error)
            )

    runs = list(visible.check_runs.order_by("-started_at", "-pk")[:1])
    failed_runs = list(
        visible.check_runs.filter(status=CheckRun.Status.FAILED).order_by("-started_at", "-pk")[:1]
    )
    return Freshness(
        stale_after=stale_after,
        regions=sorted(regions.values(), key=lambda r: (r.account, r.region)),
        account_failures=failures,
        never_synced=never_synced,
        last_check_run=runs[0] if runs else None,
        last_failed_check_run=failed_runs[0] if failed_runs else None,
    )
