"""The ID token is checked for issuer, audience, expiry and algorithm, not only its signature
(mozilla-django-oidc checks the signature and the nonce)."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import SuspiciousOperation

from tlsposture.oidc import TeamsFromClaims

ISSUER = "https://sso.example.com/realms/acme"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(autouse=True)
def oidc_settings(settings):
    settings.OIDC_ISSUER = ISSUER
    settings.OIDC_RP_CLIENT_ID = "tlsposture"
    settings.OIDC_RP_SIGN_ALGO = "RS256"


def _token(algorithm="RS256", key=KEY, **claims) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": "tlsposture", "sub": "ana", "iat": now, "exp": now + 300}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key, algorithm=algorithm)


def _check(token: str) -> dict:
    return TeamsFromClaims().get_payload_data(token, KEY.public_key())


def test_a_good_token_gives_its_claims():
    assert _check(_token())["sub"] == "ana"


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "https://evil.example.com"},
        {"aud": "another-client"},
        {"exp": int(time.time()) - 3600},
        {"exp": None},
        {"sub": None},
    ],
    ids=["issuer", "audience", "expired", "no-expiry", "no-subject"],
)
def test_a_token_for_someone_else_or_stale_is_refused(claims):
    with pytest.raises(SuspiciousOperation):
        _check(_token(**claims))


def test_a_token_signed_another_way_is_refused():
    with pytest.raises(SuspiciousOperation):
        _check(_token(algorithm="HS256", key="shared-secret-0123456789abcdef0123456789"))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SuspiciousOperation):
        _check(_token(key=other))
