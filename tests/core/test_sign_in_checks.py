"""`manage.py check` refuses an incomplete or unsafe single sign-on set-up."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks


def _ids(settings, **overrides) -> set[str]:
    for name, value in overrides.items():
        setattr(settings, name, value)
    return {e.id for e in run_checks(tags=["security"]) if e.id.startswith("tlsposture.")}


GOOD = {
    "OIDC_ISSUER": "https://sso.example.com/realms/acme",
    "OIDC_RP_CLIENT_ID": "tlsposture",
    "OIDC_CLIENT_SECRET_ENV": "TLSPOSTURE_CRED_OIDC_SECRET",
    "OIDC_RP_SCOPES": "openid email profile",
    "OIDC_RP_SIGN_ALGO": "RS256",
    "PASSWORD_LOGIN": False,
}


def test_a_complete_set_up_passes(settings):
    assert _ids(settings, **GOOD) == set()


def test_no_password_login_and_no_issuer_leaves_no_way_in(settings):
    assert _ids(settings, OIDC_ISSUER="", PASSWORD_LOGIN=False) == {"tlsposture.E101"}


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"OIDC_ISSUER": "http://sso.example.com"}, "tlsposture.E102"),
        ({"OIDC_RP_CLIENT_ID": ""}, "tlsposture.E103"),
        ({"OIDC_CLIENT_SECRET_ENV": ""}, "tlsposture.E104"),
        # The secret's variable obeys the credential-name rule: never a settings variable.
        ({"OIDC_CLIENT_SECRET_ENV": "SECRET_KEY"}, "tlsposture.E104"),
        ({"OIDC_CLIENT_SECRET_ENV": "OIDC_SECRET"}, "tlsposture.E104"),
        ({"OIDC_RP_SCOPES": "email"}, "tlsposture.E105"),
        ({"OIDC_RP_SIGN_ALGO": "HS256"}, "tlsposture.E106"),
    ],
)
def test_each_unsafe_or_missing_setting_is_refused(settings, override, error):
    assert _ids(settings, **{**GOOD, **override}) == {error}
