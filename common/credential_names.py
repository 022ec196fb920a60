"""Which environment variables a credential setting may name: one rule, checked everywhere.

Accounts and checker profiles name the variables that hold their secrets (every `*_env`
setting). Whoever can write such a name decides which of the process's variables is read
and sent to a database or a cloud API, so the name is confined:

- it starts with `TLSPOSTURE_CRED_`, or matches one of the names or globs listed in
  `TLSPOSTURE_CRED_ALLOW` (comma-separated);
- and it is never one of the process's own settings variables (SECRET_KEY, DATABASE_URL,
  TLSPOSTURE_SECRET_KEYS, …: every name tlsposture/env.py has read, plus the few read by
  the SDKs, the compose file and the demo), even when listed.

The admin forms and `import_accounts` refuse a name that breaks the rule, and
`read_credential()` checks it again where the value is read, so a row written before the
rule existed cannot leak either. See README "Security".
"""

from __future__ import annotations

import os
import re
from fnmatch import fnmatchcase

from django.conf import settings
from django.core.exceptions import ValidationError

from tlsposture.env import variables_read

CREDENTIAL_PREFIX = "TLSPOSTURE_CRED_"
ALLOW_VARIABLE = "TLSPOSTURE_CRED_ALLOW"
RULE = (
    f"a credential variable must start with {CREDENTIAL_PREFIX} or match {ALLOW_VARIABLE}, "
    "and may never be one of tlsposture's own settings variables"
)
# Read by something other than tlsposture/env.py, yet just as much the process's own.
_OWN_VARIABLES = frozenset(
    {
        "SECRET_KEY",
        "SECRET_KEY_FALLBACKS",
        "TLSPOSTURE_SECRET_KEYS",
        "TLSPOSTURE_CRED_ALLOW",
        "DATABASE_URL",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "CELERY_BROKER_URL",
        "CELERY_RESULT_BACKEND",
        "CACHE_URL",
        "POSTGRES_PASSWORD",  # docker-compose.yml
        "DJANGO_SUPERUSER_PASSWORD",  # createsuperuser --noinput, the demo
        "DJANGO_SETTINGS_MODULE",
    }
)
# The SDKs' own credential chains: the process's cloud keys live here.
_OWN_VARIABLE_GLOBS = ("AWS_*", "ALIBABA_CLOUD_*", "ALICLOUD_*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class CredentialNameRefused(ValueError):
    """The name breaks the rule; the message names the variable, never a value."""


def _is_own_variable(name: str) -> bool:
    upper = name.upper()
    own = _OWN_VARIABLES | {n.upper() for n in variables_read()}
    return upper in own or any(fnmatchcase(upper, glob) for glob in _OWN_VARIABLE_GLOBS)


def _allowed_by_list(name: str) -> bool:
    allowed = settings.TLSPOSTURE.get("CRED_ALLOW") or []
    return any(fnmatchcase(name, pattern) for pattern in allowed)


def credential_name_problem(name: str) -> str | None:
    """Why `name` may not be read as a credential, or None when it may."""
    if not _NAME.fullmatch(name):
        return f"{name!r} is not an environment variable name"
    if _is_own_variable(name):
        return f"{name} is one of tlsposture's own settings variables: {RULE}"
    if name.startswith(CREDENTIAL_PREFIX) or _allowed_by_list(name):
        return None
    return f"{name} is refused: {RULE}"


def check_credential_name(name: str) -> None:
    problem = credential_name_problem(name)
    if problem:
        raise CredentialNameRefused(problem)


def validate_credential_name(name: str) -> None:
    """Form and model validator (an empty value is left to `blank`)."""
    if name:
        problem = credential_name_problem(name)
        if problem:
            raise ValidationError(problem, code="credential_name")


def read_credential(name: str) -> str:
    """The value of credential variable `name` ("" when unset), after checking the rule."""
    check_credential_name(name)
    return os.environ.get(name, "")


def credential_name_fields(model) -> list[str]:
    """The fields of `model` that name a credential variable (all `*_env` fields)."""
    return [f.name for f in model._meta.concrete_fields if f.name.endswith("_env")]
