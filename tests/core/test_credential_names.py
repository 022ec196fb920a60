"""The credential-name rule: TLSPOSTURE_CRED_* or TLSPOSTURE_CRED_ALLOW, never a setting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from common.credential_names import (
    RULE,
    CredentialNameRefused,
    credential_name_problem,
    read_credential,
)

ROOT = Path(__file__).resolve().parents[2]


def _allow(*names):
    return override_settings(TLSPOSTURE={**settings.TLSPOSTURE, "CRED_ALLOW": list(names)})


def test_the_prefix_is_allowed_and_other_names_are_refused_naming_the_rule():
    assert credential_name_problem("TLSPOSTURE_CRED_PROD_CHECKER") is None
    problem = credential_name_problem("PROD_CHECKER_PASSWORD")
    assert problem == f"PROD_CHECKER_PASSWORD is refused: {RULE}"
    assert "TLSPOSTURE_CRED_" in RULE and "TLSPOSTURE_CRED_ALLOW" in RULE
    assert credential_name_problem("tlsposture_cred_lower") is not None  # case matters
    assert "not an environment variable name" in credential_name_problem("A B")
    assert "not an environment variable name" in credential_name_problem("X=Y")


def test_the_allow_list_takes_names_and_globs():
    with _allow("VAULT_DB_PASSWORD", "TEAM_*_DB_PW"):
        assert credential_name_problem("VAULT_DB_PASSWORD") is None
        assert credential_name_problem("TEAM_ORDERS_DB_PW") is None
        assert credential_name_problem("VAULT_DB_PASSWORD_2") is not None


@pytest.mark.parametrize(
    "name",
    [
        "SECRET_KEY",
        "TLSPOSTURE_SECRET_KEYS",
        "DATABASE_URL",
        "EMAIL_HOST_PASSWORD",
        "CELERY_BROKER_URL",
        "CACHE_URL",
        "TLSPOSTURE_CRED_ALLOW",  # starts with the prefix, and is a setting
        "POSTGRES_PASSWORD",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "secret_key",
    ],
)
def test_the_process_own_variables_are_refused_even_when_listed(name):
    with _allow("*"):
        problem = credential_name_problem(name)
    assert problem == f"{name} is one of tlsposture's own settings variables: {RULE}"


def test_every_variable_the_settings_read_is_refused():
    """Not a hand-kept list: every name the settings modules pass to an env reader."""
    names = set()
    for source in ("tlsposture/settings.py", "tlsposture/schedule.py"):
        text = (ROOT / source).read_text()
        names |= set(re.findall(r"env_[a-z_]+\(\s*\"([A-Z0-9_]+)\"", text))
    assert {"SECRET_KEY", "DATABASE_URL", "EMAIL_HOST_PASSWORD", "CACHE_URL"} <= names
    assert len(names) > 40
    with _allow("*"):
        allowed = sorted(n for n in names if credential_name_problem(n) is None)
    assert allowed == []


def test_read_credential_checks_before_it_reads(monkeypatch):
    monkeypatch.setenv("TLSPOSTURE_CRED_X", "value-x")
    assert read_credential("TLSPOSTURE_CRED_X") == "value-x"
    assert read_credential("TLSPOSTURE_CRED_UNSET_Y") == ""
    with pytest.raises(CredentialNameRefused) as refused:
        read_credential("SECRET_KEY")
    assert settings.SECRET_KEY not in str(refused.value)
