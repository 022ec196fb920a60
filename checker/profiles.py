"""Checker profiles as code (`[[checker]]` in the accounts file) and which one applies.

A profile says how to check the endpoints whose "account/identifier" matches its glob;
the first match in file order wins. Files never hold secrets: passwords are referenced by
environment variable or AWS Secrets Manager ARN, or replaced by an RDS IAM token.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from checker.models import CheckerProfile
from common.as_code import EntryError, EntrySchema, check_entry

PROFILE_SCHEMA = EntrySchema(
    table="checker",
    strings=frozenset(
        {
            "name",
            "match",
            "username",
            "password_env",
            "secrets_manager_arn",
            "ca_bundle",
            "connect_host",
            "canary_username",
            "canary_password_env",
        }
    ),
    booleans=frozenset({"iam_auth", "enabled"}),
    integers=frozenset({"connect_port"}),
    secret_keys=frozenset({"password", "canary_password", "secret", "token"}),
    instead_of_secrets="use password_env, secrets_manager_arn or iam_auth = true",
)
PROFILE_FILE_KEYS = (PROFILE_SCHEMA.keys - {"name"}) | {"position", "password_encrypted"}


def validate_profile_entry(index: int, entry: dict) -> dict:
    where = check_entry(PROFILE_SCHEMA, index, entry)
    match = entry.get("match", "").strip()
    if not match:
        raise EntryError(f"{where}: match is required (a glob over account/identifier)")
    port = entry.get("connect_port")
    if port is not None and not 0 < port < 65536:
        raise EntryError(f"{where}: connect_port must be a port number")
    sources = [k for k in ("password_env", "secrets_manager_arn") if entry.get(k)]
    if entry.get("iam_auth"):
        sources.append("iam_auth")
    if len(sources) > 1:
        raise EntryError(f"{where}: choose one of {', '.join(sources)}")
    if sources and not entry.get("username"):
        raise EntryError(f"{where}: a credential needs a username")
    return {**entry, "name": entry.get("name") or match}


def matching_profile(
    account_name: str, identifier: str, profiles: list[CheckerProfile]
) -> CheckerProfile | None:
    """The first enabled profile (in position order) whose glob matches account/identifier."""
    key = f"{account_name}/{identifier}"
    for profile in profiles:
        if profile.enabled and fnmatchcase(key, profile.match):
            return profile
    return None
