"""Exploit 2 of issue 14 and its neighbours: an account may not read a process secret, send
its keys over plain HTTP beyond loopback, or be re-aimed by a staff user.

The leak tests point a real sync at a real recording server on loopback and assert that it
received no secret. `2130706433` is 127.0.0.1 written as one number: the operating system
dials it (the control shows the server receiving), but it is not a loopback *literal*, so it
stands for any remote host that the rule must refuse.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from inventory.models import CloudAccount, SyncRun
from inventory.services import sync_account
from tests.leaks import RecordingHTTPServer, assert_no_secret

pytestmark = pytest.mark.django_db

DISGUISED_LOOPBACK = "2130706433"  # 127.0.0.1, not spelled as a loopback address


@pytest.fixture
def recorder():
    with RecordingHTTPServer() as server:
        yield server


@pytest.fixture
def fast_sync(settings):
    settings.TLSPOSTURE = {
        **settings.TLSPOSTURE,
        "CLOUD_API_CONNECT_TIMEOUT": 1.0,
        "CLOUD_API_READ_TIMEOUT": 1.0,
        "CLOUD_API_ATTEMPTS": 1,
    }


def _aliyun(endpoint: str, **names) -> CloudAccount:
    """Written straight to the database, as a row from before the rule would be."""
    return CloudAccount.objects.create(
        name="cn-aliyun",
        provider="aliyun",
        regions=["cn-hangzhou"],
        endpoint=endpoint,
        protocol="http",
        **names,
    )


def test_exploit_2_an_old_row_naming_process_secrets_sends_nothing(recorder, fast_sync):
    account = _aliyun(
        f"127.0.0.1:{recorder.port}",
        access_key_id_env="SECRET_KEY",
        access_key_secret_env="TLSPOSTURE_CRED_ALIYUN_SK",
        security_token_env="TLSPOSTURE_SECRET_KEYS",
    )
    run = sync_account(account)
    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith("access_key_id_env not read: SECRET_KEY is one of tlsposture's")
    assert recorder.requests == []
    assert_no_secret(run.error.encode(), settings.SECRET_KEY)


def test_an_account_with_allowed_names_reaches_a_loopback_api(recorder, fast_sync, monkeypatch):
    """The control: the same sync does reach the recorder when every rule holds."""
    monkeypatch.setenv("TLSPOSTURE_CRED_ALIYUN_AK", "LTAIcontrolKeyId0001")
    monkeypatch.setenv("TLSPOSTURE_CRED_ALIYUN_SK", "control-secret-0002")
    account = _aliyun(
        f"127.0.0.1:{recorder.port}",
        access_key_id_env="TLSPOSTURE_CRED_ALIYUN_AK",
        access_key_secret_env="TLSPOSTURE_CRED_ALIYUN_SK",
    )
    sync_account(account)
    assert recorder.requests and b"LTAIcontrolKeyId0001" in recorder.received
    assert_no_secret(recorder.received, "control-secret-0002")  # signed with, never sent


def test_plain_http_to_a_host_that_is_not_loopback_sends_nothing(recorder, fast_sync, monkeypatch):
    with pytest.raises(urllib.error.HTTPError):  # the control: this address reaches it
        urllib.request.urlopen(f"http://{DISGUISED_LOOPBACK}:{recorder.port}/", timeout=5)
    assert len(recorder.requests) == 1
    recorder.requests.clear()
    monkeypatch.setenv("TLSPOSTURE_CRED_ALIYUN_AK", "LTAIplainKeyId0003")
    monkeypatch.setenv("TLSPOSTURE_CRED_ALIYUN_SK", "plain-secret-0004")
    monkeypatch.setenv("TLSPOSTURE_CRED_ALIYUN_TOKEN", "plain-sts-token-0005")
    account = _aliyun(
        f"{DISGUISED_LOOPBACK}:{recorder.port}",
        access_key_id_env="TLSPOSTURE_CRED_ALIYUN_AK",
        access_key_secret_env="TLSPOSTURE_CRED_ALIYUN_SK",
        security_token_env="TLSPOSTURE_CRED_ALIYUN_TOKEN",
    )
    run = sync_account(account)
    assert run.status == SyncRun.Status.FAILED
    assert "plain http is accepted only for loopback hosts" in run.error
    assert recorder.requests == []


def test_aws_keys_never_go_over_plain_http_beyond_loopback(recorder, fast_sync, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACONTROLKEY000006")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-0007")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "aws-session-token-0008")
    account = CloudAccount.objects.create(
        name="prod-aws",
        provider="aws",
        regions=["us-east-1"],
        endpoint_url=f"http://{DISGUISED_LOOPBACK}:{recorder.port}",
    )
    run = sync_account(account)
    assert "endpoint_url" in run.error and "loopback" in run.error
    assert recorder.requests == []
    # The control: on loopback the same sync sends the session token in a header, which is
    # exactly what must never cross a network in clear.
    account.endpoint_url = f"http://127.0.0.1:{recorder.port}"
    account.save()
    sync_account(account)
    assert b"aws-session-token-0008" in recorder.received


# -- the admin: model validation, and who edits what ---------------------------------------


def test_model_validation_refuses_plain_http_beyond_loopback():
    for fields in (
        {"provider": "aliyun", "endpoint": "rds.example.com:80", "protocol": "http"},
        {"provider": "aliyun", "endpoint": "", "protocol": "http"},
        {"provider": "aws", "endpoint_url": "http://rds.example.com"},
        {"provider": "aws", "endpoint_url": "ftp://127.0.0.1"},
    ):
        with pytest.raises(ValidationError) as refused:
            CloudAccount(name="x", **fields).full_clean()
        assert set(refused.value.message_dict) <= {"protocol", "endpoint_url"}
    for fields in (
        {"provider": "aliyun", "endpoint": "127.0.0.1:9000", "protocol": "http"},
        {"provider": "aliyun", "endpoint": "[::1]:9000", "protocol": "http"},
        {"provider": "aliyun", "endpoint": "rds.example.com", "protocol": "https"},
        {"provider": "aws", "endpoint_url": "http://localhost:5000"},
        {"provider": "aws", "endpoint_url": "https://rds.vpce.example.com"},
    ):
        CloudAccount(name="x", **fields).full_clean()


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_user("ops", password="pw-ops-x1", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="inventory", codename__contains="account")
    )
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(client):
    root = get_user_model().objects.create_superuser("root", "root@example.test", "pw-root-x1")
    client.force_login(root)
    return client


ACCOUNT_FORM = {"name": "cn-aliyun", "provider": "aliyun", "regions": "[]", "enabled": "on"}
ROUTING = {
    "role_arn": "arn:aws:iam::999999999999:role/Elsewhere",
    "endpoint_url": "https://attacker.example.com",
    "endpoint": "attacker.example.com:443",
    "protocol": "https",
    "access_key_id_env": "TLSPOSTURE_CRED_OTHER_AK",
    "access_key_secret_env": "TLSPOSTURE_CRED_OTHER_SK",
    "security_token_env": "TLSPOSTURE_CRED_OTHER_TOKEN",
    "ca_bundle": "/tmp/attacker.pem",
}


def test_staff_see_an_accounts_routing_read_only(staff_client):
    account = CloudAccount.objects.create(
        name="cn-aliyun",
        provider="aliyun",
        access_key_id_env="TLSPOSTURE_CRED_ALIYUN_AK",
        access_key_secret_env="TLSPOSTURE_CRED_ALIYUN_SK",
        endpoint="127.0.0.1:9000",
        protocol="http",
    )
    url = reverse("admin:inventory_cloudaccount_change", args=[account.pk])
    page = staff_client.get(url).content.decode()
    assert "TLSPOSTURE_CRED_ALIYUN_AK" in page and "127.0.0.1:9000" in page
    for field in ROUTING:
        assert f'name="{field}"' not in page
    form = {**ACCOUNT_FORM, "network_zone": "default", "regions": '["cn-shanghai"]'}
    response = staff_client.post(url, {**form, **ROUTING})
    assert response.status_code == 302, response.content.decode()[:2000]
    account.refresh_from_db()
    assert account.regions == ["cn-shanghai"]
    assert (account.endpoint, account.protocol, account.access_key_id_env) == (
        "127.0.0.1:9000",
        "http",
        "TLSPOSTURE_CRED_ALIYUN_AK",
    )
    assert account.role_arn == account.endpoint_url == account.ca_bundle == ""


def test_every_trust_bundle_and_credential_field_is_superuser_only():
    """A field added later (say a second trust bundle) is covered without being listed."""
    from django.contrib import admin

    model_admin = admin.site._registry[CloudAccount]
    fields = {f.name for f in CloudAccount._meta.concrete_fields}
    wanted = {f for f in fields if f.endswith(("_env", "ca_bundle"))} | {
        "endpoint",
        "endpoint_url",
        "protocol",
        "role_arn",
    }
    assert wanted <= set(model_admin.superuser_only_fields())


@pytest.mark.parametrize("name", ["SECRET_KEY", "EMAIL_HOST_PASSWORD", "ALIYUN_AK"])
def test_the_admin_refuses_a_credential_name_outside_the_rule(admin_client, name):
    response = admin_client.post(
        reverse("admin:inventory_cloudaccount_add"),
        {
            **ACCOUNT_FORM,
            "network_zone": "default",
            "protocol": "https",
            "access_key_id_env": name,
        },
    )
    assert response.status_code == 200
    assert "must start with TLSPOSTURE_CRED_ or match TLSPOSTURE_CRED_ALLOW" in (
        response.content.decode()
    )
    assert not CloudAccount.objects.exists()


# -- import_accounts --------------------------------------------------------------------------


def _import(tmp_path, text):
    path = tmp_path / "accounts.toml"
    path.write_text(text)
    call_command("import_accounts", str(path))


ALIYUN_ENTRY = """
[[account]]
name = "cn-aliyun"
provider = "aliyun"
access_key_id_env = "{ak}"
access_key_secret_env = "TLSPOSTURE_CRED_ALIYUN_SK"
endpoint = "{endpoint}"
protocol = "http"
"""


def test_import_refuses_a_process_secret_naming_the_rule(tmp_path):
    with pytest.raises(CommandError) as refused:
        _import(tmp_path, ALIYUN_ENTRY.format(ak="SECRET_KEY", endpoint="127.0.0.1:9000"))
    message = str(refused.value)
    assert "[[account]] #1: access_key_id_env: SECRET_KEY is one of tlsposture's own" in message
    assert "must start with TLSPOSTURE_CRED_ or match TLSPOSTURE_CRED_ALLOW" in message
    assert not CloudAccount.objects.exists()


def test_import_takes_names_from_the_allow_list(tmp_path, settings):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "CRED_ALLOW": ["VAULT_*"]}
    _import(tmp_path, ALIYUN_ENTRY.format(ak="VAULT_ALIYUN_AK", endpoint="127.0.0.1:9000"))
    assert CloudAccount.objects.get().access_key_id_env == "VAULT_ALIYUN_AK"


def test_import_refuses_plain_http_beyond_loopback(tmp_path):
    with pytest.raises(CommandError) as refused:
        _import(
            tmp_path,
            ALIYUN_ENTRY.format(ak="TLSPOSTURE_CRED_ALIYUN_AK", endpoint="rds.example.com:80"),
        )
    assert "(cn-aliyun): protocol http to endpoint rds.example.com:80: plain http" in str(
        refused.value
    )
    with pytest.raises(CommandError, match=r"endpoint_url http://rds\.example\.com: plain http"):
        _import(
            tmp_path,
            '[[account]]\nname = "a"\nprovider = "aws"\nendpoint_url = "http://rds.example.com"\n',
        )
    assert not CloudAccount.objects.exists()
