"""Single sign-on with OpenID Connect (mozilla-django-oidc), set up by environment variables
(README "Access"; settings.py reads them).

What this adds to the library, and why:

- Discovery. Only the issuer is configured; the endpoints come from its
  `/.well-known/openid-configuration`, fetched on first use (not at import: a page load
  must not depend on the provider being up at start-up), over verified TLS, and refused
  unless the document names the configured issuer.
- The client secret is read from the variable OIDC_CLIENT_SECRET_ENV names, under the one
  credential-name rule (common/credential_names.py), at the moment it is sent — to the
  token endpoint only, over verified TLS (https issuers only; checks.py).
- The ID token is checked for issuer, audience, expiry and algorithm (the library checks
  the signature and nonce only).
- Users are matched by the username claim (OIDC_USERNAME_CLAIM), never by e-mail, and only
  accounts that single sign-on made itself (their unusable password carries SSO_MARK) are
  matched: a local account of the same name — with a password, or without one such as
  `createsuperuser --noinput` makes — is never taken over; that login fails.
- With OIDC_GROUPS_CLAIM set, the claim is the truth for the user's teams at each login:
  inventory.teams.set_teams_from_claim.
"""

from __future__ import annotations

import logging
import threading

import jwt
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.crypto import get_random_string
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from common.credential_names import read_credential
from inventory.teams import set_teams_from_claim

log = logging.getLogger(__name__)

_ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
# The start of the (unusable: "!"-prefixed) password of an account made by single sign-on.
SSO_MARK = "!sso:"
_discovered: dict[str, dict] = {}
_lock = threading.Lock()


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def discovery() -> dict:
    """The issuer's discovery document, fetched once per process (a failure is not kept,
    so the next sign-in tries again)."""
    issuer = settings.OIDC_ISSUER
    with _lock:
        if issuer in _discovered:
            return _discovered[issuer]
    response = requests.get(
        f"{issuer}/.well-known/openid-configuration",
        verify=settings.OIDC_VERIFY_SSL,
        timeout=settings.OIDC_TIMEOUT,
    )
    response.raise_for_status()
    document = response.json()
    if document.get("issuer", "").rstrip("/") != issuer:
        raise ImproperlyConfigured(
            f"the discovery document of {issuer} names another issuer: {document.get('issuer')!r}"
        )
    missing = [key for key in _ENDPOINTS.values() if not document.get(key)]
    if missing:
        raise ImproperlyConfigured(f"the discovery document of {issuer} lacks {missing}")
    with _lock:
        _discovered[issuer] = document
    return document


def forget_discovery() -> None:
    """For tests that start a provider at another address."""
    with _lock:
        _discovered.clear()


def oidc_setting(attr: str, *default):
    """The library's settings, with endpoints discovered and the secret read when asked."""
    if attr in _ENDPOINTS:
        return discovery()[_ENDPOINTS[attr]]
    if attr == "OIDC_RP_CLIENT_SECRET":
        return read_credential(settings.OIDC_CLIENT_SECRET_ENV)
    if default:
        return getattr(settings, attr, default[0])
    return getattr(settings, attr)


class TeamsFromClaims(OIDCAuthenticationBackend):
    """The authentication backend of the callback; inert for every other login."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        # The library reads every setting here; Django makes a backend for each login
        # attempt, password logins too, which must not wait on discovery. Read on use.
        from django.contrib.auth import get_user_model

        self.UserModel = get_user_model()

    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: oidc_setting("OIDC_OP_TOKEN_ENDPOINT"))
    OIDC_OP_USER_ENDPOINT = property(lambda self: oidc_setting("OIDC_OP_USER_ENDPOINT"))
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: oidc_setting("OIDC_OP_JWKS_ENDPOINT"))
    OIDC_RP_CLIENT_ID = property(lambda self: settings.OIDC_RP_CLIENT_ID)
    OIDC_RP_CLIENT_SECRET = property(lambda self: oidc_setting("OIDC_RP_CLIENT_SECRET"))
    OIDC_RP_SIGN_ALGO = property(lambda self: settings.OIDC_RP_SIGN_ALGO)
    OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(self, request, **kwargs):
        if not enabled() or request is None:
            return None
        if request.path != reverse("oidc_authentication_callback"):
            return None  # a password login, or a stray ?code= elsewhere
        return super().authenticate(request, **kwargs)

    def get_payload_data(self, token, key):
        """The ID token's claims, after signature, issuer, audience and expiry checks."""
        algorithm = self.OIDC_RP_SIGN_ALGO
        try:
            if jwt.get_unverified_header(token).get("alg") != algorithm:
                raise SuspiciousOperation(f"ID token not signed with {algorithm}")
            return jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=settings.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_ISSUER,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
                leeway=60,
            )
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"ID token refused: {type(exc).__name__}") from None

    def get_userinfo(self, access_token, id_token, payload):
        # A provider puts groups in the ID token, the userinfo answer or both.
        return {**payload, **super().get_userinfo(access_token, id_token, payload)}

    def verify_claims(self, claims):
        return bool(self._username(claims))

    def _username(self, claims) -> str:
        value = claims.get(settings.OIDC_USERNAME_CLAIM)
        return value.strip()[:150] if isinstance(value, str) else ""

    def describe_user_by_claims(self, claims):
        return f"username {self._username(claims)}"

    def filter_users_by_claims(self, claims):
        users = self.UserModel.objects.filter(username=self._username(claims))
        for user in users:
            if not user.password.startswith(SSO_MARK):
                log.warning(
                    "single sign-on refused for %s: a local account has that name",
                    user.username,
                )
                raise SuspiciousOperation("a local account has this username")
        return users

    def create_user(self, claims):
        user = self.UserModel(username=self._username(claims))
        user.password = SSO_MARK + get_random_string(40)  # unusable, and marked as ours
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        email = claims.get("email")
        if isinstance(email, str) and email != user.email:
            user.email = email
        user.save()
        if settings.OIDC_GROUPS_CLAIM:
            set_teams_from_claim(user, claims.get(settings.OIDC_GROUPS_CLAIM))
        return user


class SignInView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider (code flow with PKCE, state and nonce)."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    OIDC_OP_AUTH_ENDPOINT = property(lambda self: oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT"))
    OIDC_RP_CLIENT_ID = property(lambda self: settings.OIDC_RP_CLIENT_ID)

    def get(self, request):
        if not enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            return super().get(request)
        except (requests.RequestException, ValueError, ImproperlyConfigured) as exc:
            # Only the exception's type: its message may name internal hosts.
            log.warning("single sign-on provider unavailable: %s", type(exc).__name__)
            return redirect(reverse("login") + "?sso=unavailable")


class CallbackView(OIDCAuthenticationCallbackView):
    get_settings = staticmethod(oidc_setting)
