"""Which cloud accounts a user may see and act on: the one rule (README "Access").

Staff and superusers see every account. Anyone else sees the accounts granted to the teams
(Django groups) they belong to: a `TeamGrant` names an account or a glob over account names.
A user in no team sees nothing. Everything else a user may read — endpoints, findings,
certificates, runs, charts, exports, the API, "Check now", digests — is derived from these
accounts in posture/visibility.py, so narrowing here narrows everywhere.

Globs are matched in Python (fnmatchcase, case-sensitive like account names): accounts
number in the tens or hundreds, and one rule in one language beats a regex translated into
each database's dialect.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from django.contrib.auth.models import Group
from django.db.models import QuerySet

from inventory.models import CloudAccount, TeamGrant


def sees_every_account(user) -> bool:
    return bool(user.is_active and (user.is_staff or user.is_superuser))


def pattern_matches(pattern: str, account_name: str) -> bool:
    return fnmatchcase(account_name, pattern)


def granted_patterns(user) -> list[str]:
    return list(
        TeamGrant.objects.filter(group__user=user).values_list("pattern", flat=True).distinct()
    )


def visible_accounts(user) -> QuerySet[CloudAccount]:
    """The accounts `user` may see; none for an anonymous or inactive user."""
    if user is None or not user.is_authenticated or not user.is_active:
        return CloudAccount.objects.none()
    if sees_every_account(user):
        return CloudAccount.objects.all()
    patterns = granted_patterns(user)
    if not patterns:
        return CloudAccount.objects.none()
    names = CloudAccount.objects.values_list("pk", "name")
    granted = [pk for pk, name in names if any(pattern_matches(p, name) for p in patterns)]
    return CloudAccount.objects.filter(pk__in=granted)


def teams_of(account: CloudAccount) -> list[str]:
    """The teams granted `account` (for the admin and the instance page)."""
    grants = TeamGrant.objects.select_related("group")
    return sorted({g.group.name for g in grants if pattern_matches(g.pattern, account.name)})


def set_teams_from_claim(user, claimed) -> None:
    """At a single sign-on login with OIDC_GROUPS_CLAIM set, the claim is the truth for the
    user's teams: they join each group it names (created when missing) and leave every
    other. A claim that is missing or not a list of names leaves them in no team: sees
    nothing rather than keeps what a removed membership once granted."""
    if isinstance(claimed, str):
        claimed = [claimed]
    if not isinstance(claimed, list):
        claimed = []
    names = {n.strip() for n in claimed if isinstance(n, str) and 0 < len(n.strip()) <= 150}
    groups = [Group.objects.get_or_create(name=name)[0] for name in sorted(names)]
    user.groups.set(groups)
