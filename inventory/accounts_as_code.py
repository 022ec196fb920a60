"""Accounts as code: `import_accounts FILE.toml` creates or updates CloudAccounts keyed by
name (docs/design.md "Interfaces that scripts and CI pipelines rely on"). Every entry is
checked first — a secret in the file, an unknown provider, plain HTTP to a remote API —
and nothing is written unless all pass.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db import transaction

from common.as_code import EntryError, EntrySchema, check_entry, upsert_by_name
from common.queues import DEFAULT_ZONE, validate_zone_name
from inventory.api_transport import api_transport_problems
from inventory.models import CloudAccount, Provider

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
    string_lists=frozenset({"regions"}),
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
    return {**entry, "name": name, "regions": list(dict.fromkeys(entry.get("regions", [])))}


def import_accounts(entries: list[dict]) -> dict[str, list[str]]:
    """Create or update accounts keyed by name. Returns names by outcome."""
    cleaned = [validate_account_entry(i, e) for i, e in enumerate(entries)]
    with transaction.atomic():
        return upsert_by_name(CloudAccount, "account", cleaned, ACCOUNT_SCHEMA.keys - {"name"})
