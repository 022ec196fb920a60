"""What a user may see: the one place that decides it, for the API (and, as they adopt it,
the pages, exports and digests).

Today every active user sees the whole fleet, as on the dashboard. Team scoping plugs in
here (issue 19): narrow `accounts` (or `instances`) for the user and every queryset below
follows, since each is derived from the one before.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from checker.models import CheckRun
from inventory.models import CloudAccount, DBInstance, SyncRun
from posture.models import Finding


@dataclass(frozen=True)
class Visible:
    accounts: QuerySet[CloudAccount]
    instances: QuerySet[DBInstance]  # current and gone; filters choose
    findings: QuerySet[Finding]
    sync_runs: QuerySet[SyncRun]
    check_runs: QuerySet[CheckRun]


def visible_to(user) -> Visible:
    """The rows `user` may read; nothing for an inactive or anonymous user."""
    if user is None or not user.is_active or not user.is_authenticated:
        accounts = CloudAccount.objects.none()
        check_runs = CheckRun.objects.none()
    else:
        accounts = CloudAccount.objects.all()
        check_runs = CheckRun.objects.all()
    instances = DBInstance.objects.filter(account__in=accounts)
    return Visible(
        accounts=accounts,
        instances=instances,
        findings=Finding.objects.filter(instance__in=instances),
        sync_runs=SyncRun.objects.filter(account__in=accounts),
        check_runs=check_runs,
    )
