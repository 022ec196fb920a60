"""Accounts as code: `import_accounts FILE.toml` creates or updates CloudAccounts keyed by
name (docs/design.md "Interfaces that scripts and CI pipelines rely on"). Every entry is
checked first — a secret in the file, an unknown provider, plain HTTP to a remote API —
and nothing is written unless all pass.

`teams = ["payments", …]` grants the account by name to those teams (Django groups,
created when missing). With the key, the file is the truth for the account's by-name
grants: a team no longer listed loses it. Without it, grants are left as the admin made
them. Glob grants are the admin's and never touched here (README "Access").
"""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from common.as_code import EntryError, EntrySchema, check_entry, upsert_by_name
from common.queues import DEFAULT_ZONE, validate_zone_name
from inventory.api_transport import api_transport_problems
from inventory.models import CloudAccount, Provider, TeamGrant

ACCOUNT_SCHEMA = EntrySchema(
    table="account",
    strings=frozenset(
        {
            "name",
            "provider",
            "role_arn",
            "endpoint_url",
            "endpoint",
            "protocol",
            "access_key_id_env",
            "access_key_secret_env",
            "security_token_env",
            "network_zone",
            "ca_bundle",
            "proxy_ca_bundle",
        }
    ),
    booleans=frozenset({"enabled"}),
    string_lists=frozenset({"regions", "teams"}),
    secret_keys=frozenset(
        {"access_key_id", "access_key_secret", "secret_access_key", "password", "token"}
    ),
    instead_of_secrets=(
        "name an environment variable instead (access_key_id_env, access_key_secret_env)"
    ),
)


def validate_account_entry(index: int, entry: dict) -> dict:
    where = check_entry(ACCOUNT_SCHEMA, index, entry)
    name = entry.get("name", "").strip()
    if not name:
        raise EntryError(f"{where}: name is required")
    if entry.get("provider") not in Provider.values:
        raise EntryError(f"{where} ({name}): provider must be one of {', '.join(Provider.values)}")
    if entry.get("protocol", "https") not in CloudAccount.Protocol.values:
        raise EntryError(f"{where} ({name}): protocol must be https or http")
    try:
        validate_zone_name(entry.get("network_zone", DEFAULT_ZONE))
    except ValidationError as exc:
        raise EntryError(f"{where} ({name}): {exc.messages[0]}") from None
    problems = api_transport_problems(SimpleNamespace(**entry))
    if problems:
        raise EntryError(f"{where} ({name}): {'; '.join(problems.values())}")
    teams = [team.strip() for team in entry.get("teams", [])]
    too_long = [t for t in teams if not t or len(t) > Group._meta.get_field("name").max_length]
    if too_long:
        raise EntryError(f"{where} ({name}): a team name must be 1 to 150 characters")
    cleaned = {**entry, "name": name, "regions": list(dict.fromkeys(entry.get("regions", [])))}
    if "teams" in entry:
        cleaned["teams"] = list(dict.fromkeys(teams))
    return cleaned


def import_accounts(entries: list[dict]) -> dict[str, list[str]]:
    """Create or update accounts keyed by name, and their by-name team grants. Returns names
    by outcome, and the teams created."""
    cleaned = [validate_account_entry(i, e) for i, e in enumerate(entries)]
    fields = ACCOUNT_SCHEMA.keys - {"name", "teams"}
    with transaction.atomic():
        result = upsert_by_name(CloudAccount, "account", cleaned, fields)
        result["teams created"] = []
        for entry in cleaned:
            name = entry["name"]
            regranted = "teams" in entry and _grant_by_name(name, entry["teams"], result)
            if regranted and name in result["unchanged"]:
                result["unchanged"].remove(name)
                result["updated"].append(name)
        return result


def _grant_by_name(account: str, teams: list[str], result: dict) -> bool:
    """Make exactly `teams` hold a by-name grant of `account`; True when anything changed."""
    changed = False
    wanted = set()
    for name in teams:
        group, created = Group.objects.get_or_create(name=name)
        if created:
            result["teams created"].append(name)
        wanted.add(group.pk)
        _, granted = TeamGrant.objects.get_or_create(group=group, pattern=account)
        changed |= granted
    stale = TeamGrant.objects.filter(pattern=account).exclude(group__in=wanted)
    removed, _ = stale.delete()
    return changed or bool(removed)
