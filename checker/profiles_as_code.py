"""Checker profiles as code: the `[[checker]]` tables of `import_accounts FILE.toml`,
created or updated by name in file order (docs/design.md "Interfaces that scripts and CI
pipelines rely on")."""

from __future__ import annotations

from django.db import transaction

from checker.models import CheckerProfile
from checker.profiles import PROFILE_FILE_KEYS, validate_profile_entry
from common.as_code import upsert_by_name


def _keep_or_drop_stored_password(desired: dict) -> None:
    # A password stored encrypted (set in the admin) stays unless the file now names
    # another credential source; the file never carries the password itself.
    if desired["password_env"] or desired["secrets_manager_arn"] or desired["iam_auth"]:
        desired["password_encrypted"] = ""
    else:
        desired.pop("password_encrypted")


def import_profiles(entries: list[dict]) -> dict[str, list[str]]:
    """Create or update profiles keyed by name (default: the match glob), in file order."""
    cleaned = [{**validate_profile_entry(i, e), "position": i} for i, e in enumerate(entries)]
    with transaction.atomic():
        return upsert_by_name(
            CheckerProfile,
            "checker",
            cleaned,
            PROFILE_FILE_KEYS,
            fixup=_keep_or_drop_stored_password,
        )
