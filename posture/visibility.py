"""What a user may see: the one place every page, HTMX fragment, export, chart, API answer,
"Check now" and digest reads its rows through (README "Access").

The accounts come from the team rule (inventory/teams.py); every other queryset here is
derived from them, so a view that starts from `visible_to(request.user)` cannot reach
another team's endpoint. Lookups by id go through these querysets too: another team's id
is a 404, exactly like an id that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from checker.models import CheckRun, Observation
from inventory.models import CACertificate, CloudAccount, DBInstance, PendingAction, SyncRun
from inventory.teams import sees_every_account, visible_accounts
from posture.models import Finding


@dataclass(frozen=True)
class Visible:
    accounts: QuerySet[CloudAccount]
    instances: QuerySet[DBInstance]  # current and gone; filters choose
    findings: QuerySet[Finding]
    sync_runs: QuerySet[SyncRun]
    check_runs: QuerySet[CheckRun]
    cas: QuerySet[CACertificate]
    pending_actions: QuerySet[PendingAction]
    everything: bool  # staff and superusers: the whole fleet


def visible_to(user) -> Visible:
    """The rows `user` may read; nothing for an inactive or anonymous user."""
    accounts = visible_accounts(user)
    everything = user is not None and user.is_authenticated and sees_every_account(user)
    instances = DBInstance.objects.filter(account__in=accounts)
    if everything:
        check_runs = CheckRun.objects.all()
    else:
        # A check round spans the fleet; a team sees the rounds that checked one of its
        # endpoints (their totals are the round's), and those that checked nothing at all
        # (a round that failed before its first target concerns everyone).
        ours = Observation.objects.filter(run=OuterRef("pk"), instance__in=instances)
        any_target = Observation.objects.filter(run=OuterRef("pk"))
        check_runs = CheckRun.objects.filter(Exists(ours) | ~Exists(any_target))
    return Visible(
        accounts=accounts,
        instances=instances,
        findings=Finding.objects.filter(instance__in=instances),
        sync_runs=SyncRun.objects.filter(account__in=accounts),
        check_runs=check_runs,
        cas=CACertificate.objects.filter(account__in=accounts),
        pending_actions=PendingAction.objects.filter(instance__in=instances),
        everything=everything,
    )


def request_visible(request) -> Visible:
    """`visible_to(request.user)`, worked out once per request."""
    visible = getattr(request, "_tlsposture_visible", None)
    if visible is None:
        visible = visible_to(request.user)
        request._tlsposture_visible = visible
    return visible
