"""System checks of the sign-in setup (`manage.py check`, and so `check --deploy`): an
incomplete or unsafe single sign-on is refused at start, not at the first login."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, register

from common.credential_names import credential_name_problem


@register("security")
def sign_in_setup(app_configs, **kwargs):
    errors = []
    if not settings.PASSWORD_LOGIN and not settings.OIDC_ISSUER:
        errors.append(
            Error(
                "TLSPOSTURE_PASSWORD_LOGIN=off leaves no way to sign in without OIDC_ISSUER.",
                id="tlsposture.E101",
            )
        )
    if not settings.OIDC_ISSUER:
        return errors
    issuer = urlsplit(settings.OIDC_ISSUER)
    if issuer.scheme != "https" or not issuer.hostname:
        errors.append(
            Error(
                "OIDC_ISSUER must be an https:// URL: the client secret and the users' tokens "
                "travel only inside verified TLS.",
                id="tlsposture.E102",
            )
        )
    if not settings.OIDC_RP_CLIENT_ID:
        errors.append(Error("OIDC_CLIENT_ID is required with OIDC_ISSUER.", id="tlsposture.E103"))
    name = settings.OIDC_CLIENT_SECRET_ENV
    problem = credential_name_problem(name) if name else "it is not set"
    if problem:
        errors.append(
            Error(
                f"OIDC_CLIENT_SECRET_ENV must name the variable holding the client secret: "
                f"{problem}",
                id="tlsposture.E104",
            )
        )
    if "openid" not in settings.OIDC_RP_SCOPES.split():
        errors.append(Error("OIDC_SCOPES must include openid.", id="tlsposture.E105"))
    if not settings.OIDC_RP_SIGN_ALGO.startswith(("RS", "ES")):
        errors.append(
            Error(
                "OIDC_SIGN_ALGO must be an asymmetric algorithm (RS256, ES256 …).",
                id="tlsposture.E106",
            )
        )
    return errors
