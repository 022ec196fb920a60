"""Checker profiles as code (`[[checker]]` in the accounts file) and which one applies.

A profile says how to check the endpoints whose "account/identifier" matches its glob;
the first match in file order wins. Files never hold secrets: passwords are referenced by
environment variable or AWS Secrets Manager ARN, or replaced by an RDS IAM token.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from django.db import transaction

from checker.models import CheckerProfile

_KEYS = {
    "name",
    "match",
    "username",
    "password_env",
    "secrets_manager_arn",
    "iam_auth",
    "ca_bundle",
    "connect_host",
    "connect_port",
    "canary_username",
    "canary_password_env",
    "enabled",
}
_SECRET_KEYS = {"password", "canary_password", "secret", "token"}
_STRINGS = _KEYS - {"iam_auth", "enabled", "connect_port"}


class ProfileError(ValueError):
    """A [[checker]] entry is invalid; the message names the entry and the key."""


def validate_profile_entry(index: int, entry: dict) -> dict:
    where = f"[[checker]] #{index + 1}"
    if not isinstance(entry, dict):
        raise ProfileError(f"{where}: must be a table")
    secrets = sorted(_SECRET_KEYS & entry.keys())
    if secrets:
        raise ProfileError(
            f"{where}: {', '.join(secrets)} would put a secret in the file; use password_env, "
            "secrets_manager_arn or iam_auth = true"
        )
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {', '.join(unknown)}")
    match = entry.get("match")
    if not isinstance(match, str) or not match.strip():
        raise ProfileError(f"{where}: match is required (a glob over account/identifier)")
    for key in _STRINGS & entry.keys():
        if not isinstance(entry[key], str):
            raise ProfileError(f"{where}: {key} must be a string")
    for key in ("iam_auth", "enabled"):
        if key in entry and not isinstance(entry[key], bool):
            raise ProfileError(f"{where}: {key} must be true or false")
    port = entry.get("connect_port")
    if port is not None and (not isinstance(port, int) or not 0 < port < 65536):
        raise ProfileError(f"{where}: connect_port must be a port number")
    sources = [k for k in ("password_env", "secrets_manager_arn") if entry.get(k)]
    if entry.get("iam_auth"):
        sources.append("iam_auth")
    if len(sources) > 1:
        raise ProfileError(f"{where}: choose one of {', '.join(sources)}")
    if sources and not entry.get("username"):
        raise ProfileError(f"{where}: a credential needs a username")
    return {"name": entry.get("name") or match, **entry}


def import_profiles(entries: list[dict]) -> dict[str, list[str]]:
    """Create or update profiles keyed by name (default: the match glob), in file order.

    A stored encrypted password (set in the admin) is kept unless the file now names
    another credential source.
    """
    cleaned = [validate_profile_entry(i, e) for i, e in enumerate(entries)]
    names = [c["name"] for c in cleaned]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ProfileError(f"checker name(s) given twice: {', '.join(duplicates)}")
    result = {"created": [], "updated": [], "unchanged": []}
    defaults = {
        f.name: f.get_default()
        for f in CheckerProfile._meta.concrete_fields
        if f.name in _KEYS | {"position"}
    }
    with transaction.atomic():
        for position, values in enumerate(cleaned):
            name = values.pop("name")
            desired = {key: values.get(key, defaults[key]) for key in _KEYS - {"name"}}
            desired["position"] = position
            profile = CheckerProfile.objects.filter(name=name).first()
            if profile is None:
                CheckerProfile.objects.create(name=name, **desired)
                result["created"].append(name)
                continue
            if desired["password_env"] or desired["secrets_manager_arn"] or desired["iam_auth"]:
                desired["password_encrypted"] = ""
            changed = [k for k, v in desired.items() if getattr(profile, k) != v]
            if changed:
                for key in changed:
                    setattr(profile, key, desired[key])
                profile.save()
                result["updated"].append(name)
            else:
                result["unchanged"].append(name)
    return result


def matching_profile(
    account_name: str, identifier: str, profiles: list[CheckerProfile]
) -> CheckerProfile | None:
    """The first enabled profile (in position order) whose glob matches account/identifier."""
    key = f"{account_name}/{identifier}"
    for profile in profiles:
        if profile.enabled and fnmatchcase(key, profile.match):
            return profile
    return None
