"""Checker credentials: encrypted at rest, rotatable, or referenced; never shown again."""

from __future__ import annotations

import io
import json
import pickle

import boto3
import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import override_settings
from moto import mock_aws

from checker.credentials import (
    CredentialError,
    CredentialResolver,
    decrypt_password,
    encrypt_password,
)
from checker.models import CheckerProfile
from checker.secret import Secret

REGION = "eu-west-1"


def _keys(*keys):
    from django.conf import settings

    return override_settings(TLSPOSTURE={**settings.TLSPOSTURE, "SECRET_KEYS": list(keys)})


def _resolve(profile, resolver=None):
    return (resolver or CredentialResolver()).resolve(
        profile, endpoint_host="orders.abc.eu-west-1.rds.amazonaws.com", endpoint_port=3306,
        region=REGION,
    )  # fmt: skip


def test_secret_never_prints_or_pickles():
    secret = Secret("hunter2-not-real")
    assert repr(secret) == str(secret) == "Secret(***)"
    assert "hunter2" not in f"{secret} {[secret]}"
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret.reveal() == "hunter2-not-real"


def test_stored_password_round_trip_and_rotation(db):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with _keys(old):
        token = encrypt_password("s3cret-value")
        assert "s3cret-value" not in token and decrypt_password(token) == "s3cret-value"
        CheckerProfile.objects.create(name="p", match="*", username="u", password_encrypted=token)
    out = io.StringIO()
    with _keys(new, old):
        call_command("rotate_checker_secrets", stdout=out)
    assert out.getvalue() == "re-encrypted 1 stored password(s)\n"
    with _keys(new):  # the old key can go now
        rotated = CheckerProfile.objects.get(name="p").password_encrypted
        assert rotated != token and decrypt_password(rotated) == "s3cret-value"
    with _keys(Fernet.generate_key().decode()), pytest.raises(CommandError) as failed:
        call_command("rotate_checker_secrets")
    assert "no configured key decrypts the stored password of: p" in str(failed.value)


def test_no_key_is_a_clear_configuration_error():
    with _keys(), pytest.raises(ImproperlyConfigured, match="TLSPOSTURE_SECRET_KEYS is not set"):
        encrypt_password("x")


def test_password_from_the_environment(monkeypatch):
    profile = CheckerProfile(
        name="p", match="*", username="tlsposture", password_env="TLSPOSTURE_CRED_CHK_PW"
    )
    monkeypatch.setenv("TLSPOSTURE_CRED_CHK_PW", "from-env-value")
    resolved = _resolve(profile)
    assert (resolved.login.username, resolved.login.secret.reveal()) == (
        "tlsposture",
        "from-env-value",
    )
    assert resolved.source == "env:TLSPOSTURE_CRED_CHK_PW" and resolved.error == ""
    monkeypatch.delenv("TLSPOSTURE_CRED_CHK_PW")
    missing = _resolve(profile)
    assert missing.login is None
    assert missing.error == "environment variable TLSPOSTURE_CRED_CHK_PW is not set or empty"


def test_username_without_any_password_is_an_error():
    resolved = _resolve(CheckerProfile(name="p", match="*", username="tlsposture"))
    assert resolved.error == "profile p names user tlsposture but no password"


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


def test_secrets_manager_json_and_plain_secrets(aws):
    as_json = aws.create_secret(
        Name="db/checker", SecretString=json.dumps({"username": "rds_checker", "password": "j-pw"})
    )["ARN"]
    plain = aws.create_secret(Name="db/plain", SecretString="plain-pw")["ARN"]
    resolver = CredentialResolver()
    from_json = _resolve(
        CheckerProfile(name="a", username="tlsposture", secrets_manager_arn=as_json), resolver
    )
    assert (from_json.login.username, from_json.login.secret.reveal()) == ("rds_checker", "j-pw")
    assert from_json.source == f"secrets-manager:{as_json}"
    from_plain = _resolve(
        CheckerProfile(name="b", username="tlsposture", secrets_manager_arn=plain), resolver
    )
    assert (from_plain.login.username, from_plain.login.secret.reveal()) == (
        "tlsposture",
        "plain-pw",
    )
    gone = as_json.replace("db/checker", "db/missing")
    missing = _resolve(CheckerProfile(name="c", username="u", secrets_manager_arn=gone), resolver)
    assert missing.error == f"Secrets Manager answered ResourceNotFoundException for {gone}"


def test_secrets_manager_answers_are_fetched_once_per_run(aws):
    arn = aws.create_secret(Name="db/once", SecretString="pw-1")["ARN"]
    resolver = CredentialResolver()
    profile = CheckerProfile(name="a", username="u", secrets_manager_arn=arn)
    assert _resolve(profile, resolver).login.secret.reveal() == "pw-1"
    aws.put_secret_value(SecretId=arn, SecretString="pw-2")
    assert _resolve(profile, resolver).login.secret.reveal() == "pw-1"
    assert _resolve(profile).login.secret.reveal() == "pw-2"  # a new run asks again


def test_iam_token_is_signed_for_the_canonical_endpoint_when_used(aws):
    profile = CheckerProfile(name="iam", username="tlsposture", iam_auth=True)
    resolved = _resolve(profile)
    assert resolved.source == "iam" and resolved.error == ""
    token = resolved.login.secret.reveal()
    assert repr(resolved.login) == "Login(username='tlsposture')"
    assert token.startswith("orders.abc.eu-west-1.rds.amazonaws.com:3306/?Action=connect")
    assert "DBUser=tlsposture" in token and "X-Amz-Signature=" in token


def test_iam_without_aws_credentials_says_so(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    resolved = _resolve(CheckerProfile(name="iam", username="u", iam_auth=True))
    assert resolved.error == "IAM authentication: no AWS credentials available to sign"


def test_canary_needs_its_variable(monkeypatch):
    profile = CheckerProfile(
        name="p", canary_username="tlsp_canary", canary_password_env="TLSPOSTURE_CRED_CANARY_PW"
    )
    assert (
        _resolve(profile).canary_error
        == "canary password variable TLSPOSTURE_CRED_CANARY_PW is not set"
    )
    monkeypatch.setenv("TLSPOSTURE_CRED_CANARY_PW", "canary-value")
    assert _resolve(profile).canary.secret.reveal() == "canary-value"


def test_undecryptable_stored_password_is_a_reason(db):
    with _keys(Fernet.generate_key().decode()):
        token = encrypt_password("x")
    with _keys(Fernet.generate_key().decode()), pytest.raises(CredentialError):
        decrypt_password(token)
    profile = CheckerProfile(name="p", username="u", password_encrypted=token)
    with _keys(Fernet.generate_key().decode()):
        assert _resolve(profile).error.startswith("the stored password cannot be decrypted")
