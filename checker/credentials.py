"""Checker credentials: stored encrypted, referenced, or replaced by an RDS IAM token.

A CheckerProfile names a username and one source for its secret:
- `password_env`: the name of an environment variable;
- `secrets_manager_arn`: an AWS Secrets Manager secret, JSON {"username", "password"} or
  the plain password;
- `iam_auth`: an RDS IAM token, signed locally right before the login (it expires after
  15 minutes) and only ever sent inside the verified TLS session;
- otherwise a password stored encrypted with Fernet keys from TLSPOSTURE_SECRET_KEYS
  (newest first; older keys still decrypt, `rotate_checker_secrets` re-encrypts).

Resolution failures are reasons that name the variable or ARN, never the secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from checker.secret import Login, Secret, SecretUnavailable
from common import secret_box
from common.credential_names import CredentialNameRefused, read_credential


class CredentialError(Exception):
    """Why a credential could not be resolved (safe to show: it names no secret)."""


# -- stored passwords ---------------------------------------------------------------------


def encrypt_password(password: str) -> str:
    return secret_box.encrypt(password)


def decrypt_password(token: str) -> str:
    try:
        return secret_box.decrypt(token)
    except secret_box.Undecryptable:
        raise CredentialError(
            "the stored password cannot be decrypted with TLSPOSTURE_SECRET_KEYS "
            "(was its key removed?); set the password again"
        ) from None


def rotate_token(token: str) -> str:
    """The same password encrypted with the newest key."""
    try:
        return secret_box.rotate(token)
    except secret_box.Undecryptable:
        raise CredentialError("no configured key decrypts this stored password") from None


# -- resolution ---------------------------------------------------------------------------


@dataclass
class Resolved:
    login: Login | None = None
    error: str = ""  # set when a credential is configured but cannot be used
    source: str = ""  # where the secret comes from, e.g. "env:NAME" — never the value
    canary: Login | None = None
    canary_error: str = ""


class CredentialResolver:
    """Resolves profiles for one run; Secrets Manager answers are fetched once per ARN."""

    def __init__(self, boto_session: boto3.session.Session | None = None):
        self._boto = boto_session
        self._secrets: dict[str, tuple[str | None, str] | CredentialError] = {}

    @property
    def boto(self) -> boto3.session.Session:
        if self._boto is None:
            self._boto = boto3.session.Session()
        return self._boto

    def resolve(self, profile, *, endpoint_host: str, endpoint_port: int, region: str) -> Resolved:
        resolved = Resolved()
        if profile is None:
            return resolved
        try:
            resolved.login = self._login(profile, endpoint_host, endpoint_port, region)
        except CredentialError as exc:
            resolved.error = str(exc)
        resolved.source = _source_label(profile)
        if profile.canary_username:
            try:
                resolved.canary = _canary_login(profile)
            except CredentialError as exc:
                resolved.canary_error = str(exc)
        return resolved

    def _login(self, profile, endpoint_host: str, endpoint_port: int, region: str):
        username = profile.username
        if profile.password_env:
            value = _variable(profile.password_env)
            if not value:
                raise CredentialError(
                    f"environment variable {profile.password_env} is not set or empty"
                )
            return Login(username, Secret(value))
        if profile.secrets_manager_arn:
            secret_user, password = self._secret(profile.secrets_manager_arn)
            return Login(secret_user or username, Secret(password))
        if profile.iam_auth:
            return self._iam_login(username, endpoint_host, endpoint_port, region)
        if profile.password_encrypted:
            return Login(username, Secret(decrypt_password(profile.password_encrypted)))
        if username:
            raise CredentialError(f"profile {profile.name} names user {username} but no password")
        return None

    def _secret(self, arn: str) -> tuple[str | None, str]:
        if arn not in self._secrets:
            try:
                self._secrets[arn] = self._fetch_secret(arn)
            except CredentialError as exc:
                self._secrets[arn] = exc
        cached = self._secrets[arn]
        if isinstance(cached, CredentialError):
            raise cached
        return cached

    def _fetch_secret(self, arn: str) -> tuple[str | None, str]:
        parts = arn.split(":")
        if len(parts) < 7 or parts[2] != "secretsmanager":
            raise CredentialError(f"{arn} is not a Secrets Manager ARN")
        try:
            client = self.boto.client("secretsmanager", region_name=parts[3])
            response = client.get_secret_value(SecretId=arn)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise CredentialError(f"Secrets Manager answered {code} for {arn}") from None
        except BotoCoreError as exc:
            raise CredentialError(f"Secrets Manager unavailable for {arn}: {exc}") from None
        text = response.get("SecretString")
        if not text:
            raise CredentialError(f"{arn} holds no SecretString (binary secrets are unsupported)")
        try:
            document = json.loads(text)
        except ValueError:
            return None, text
        if isinstance(document, dict):
            password = document.get("password")
            if not isinstance(password, str) or not password:
                raise CredentialError(f'{arn} is JSON without a "password" string')
            username = document.get("username")
            return (username if isinstance(username, str) and username else None), password
        return None, text

    def _iam_login(self, username: str, host: str, port: int, region: str) -> Login:
        if not region:
            raise CredentialError("IAM authentication needs the instance's region")
        if self.boto.get_credentials() is None:
            raise CredentialError("IAM authentication: no AWS credentials available to sign")
        client = self.boto.client("rds", region_name=region)

        def sign() -> str:
            # The token is signed for the canonical endpoint, whatever address is dialed.
            try:
                return client.generate_db_auth_token(
                    DBHostname=host, Port=port, DBUsername=username, Region=region
                )
            except (BotoCoreError, ClientError) as exc:
                raise SecretUnavailable(f"IAM token could not be signed: {exc}") from None

        return Login(username, Secret(factory=sign))


def _variable(name: str) -> str:
    # The rule is checked again here, so a row written before it existed cannot leak.
    try:
        return read_credential(name)
    except CredentialNameRefused as exc:
        raise CredentialError(f"not read: {exc}") from None


def _canary_login(profile) -> Login:
    name = profile.canary_password_env
    if not name:
        raise CredentialError("canary_username given without canary_password_env")
    password = _variable(name)
    if not password:
        raise CredentialError(f"canary password variable {name} is not set")
    return Login(profile.canary_username, Secret(password))


def _source_label(profile) -> str:
    if profile.password_env:
        return f"env:{profile.password_env}"
    if profile.secrets_manager_arn:
        return f"secrets-manager:{profile.secrets_manager_arn}"
    if profile.iam_auth:
        return "iam"
    if profile.password_encrypted:
        return "stored"
    return ""
