"""`manage.py import_accounts FILE.toml`: accounts and checker profiles as code."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from checker.models import CheckerProfile
from checker.profiles import matching_profile
from inventory.models import CloudAccount

pytestmark = pytest.mark.django_db

FILE = """
[[account]]
name = "prod-aws"
provider = "aws"
regions = ["us-east-1", "eu-west-1"]
role_arn = "arn:aws:iam::111111111111:role/TlsPostureAudit"
endpoint_url = "http://127.0.0.1:5000"
network_zone = "default"
ca_bundle = "/etc/tlsposture/rds-global-bundle.pem"

[[account]]
name = "cn-aliyun"
provider = "aliyun"
regions = ["cn-hangzhou"]
access_key_id_env = "TLSPOSTURE_CRED_ALIYUN_AK"
access_key_secret_env = "TLSPOSTURE_CRED_ALIYUN_SK"
endpoint = "127.0.0.1:9000"
protocol = "http"

[[checker]]
match = "prod-aws/orders-*"
username = "tlsposture"
password_env = "TLSPOSTURE_CRED_PROD_CHECKER"
ca_bundle = "/etc/tlsposture/rds-global-bundle.pem"
connect_host = "127.0.0.1"
connect_port = 3311

[[checker]]
name = "everything else"
match = "*"
username = "tlsposture"
iam_auth = true
"""


def _run(tmp_path, text, capsys):
    path = tmp_path / "accounts.toml"
    path.write_text(text)
    call_command("import_accounts", str(path))
    return capsys.readouterr().out


def test_import_creates_then_changes_nothing(tmp_path, capsys):
    first = _run(tmp_path, FILE, capsys)
    assert "accounts created: prod-aws, cn-aliyun" in first
    assert "checkers created: prod-aws/orders-*, everything else" in first
    aws = CloudAccount.objects.get(name="prod-aws")
    assert aws.regions == ["us-east-1", "eu-west-1"]
    assert aws.endpoint_url == "http://127.0.0.1:5000"
    second = _run(tmp_path, FILE, capsys)
    assert "created" not in second and "updated" not in second
    assert "accounts unchanged: prod-aws, cn-aliyun" in second
    assert CloudAccount.objects.count() == 2 and CheckerProfile.objects.count() == 2


def test_first_matching_profile_wins(tmp_path, capsys):
    _run(tmp_path, FILE, capsys)
    profiles = list(CheckerProfile.objects.all())
    assert matching_profile("prod-aws", "orders-db", profiles).connect_port == 3311
    assert matching_profile("prod-aws", "billing", profiles).name == "everything else"


def test_a_secret_in_the_file_is_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(FILE + '\n[[checker]]\nmatch = "x/*"\nusername = "u"\npassword = "hunter2"\n')
    with pytest.raises(CommandError) as refused:
        call_command("import_accounts", str(path))
    assert "would put a secret in the file" in str(refused.value)
    assert "hunter2" not in str(refused.value)
    assert not CloudAccount.objects.exists()


def test_invalid_toml_gives_a_clear_error(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[[account]\nname=")
    with pytest.raises(CommandError, match="is not valid TOML"):
        call_command("import_accounts", str(path))


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("password_env", "SECRET_KEY"),
        ("canary_password_env", "TLSPOSTURE_SECRET_KEYS"),
        ("password_env", "PROD_CHECKER_PASSWORD"),
    ],
)
def test_a_credential_name_outside_the_rule_is_refused_naming_it(tmp_path, key, name):
    path = tmp_path / "bad.toml"
    path.write_text(
        FILE + f'\n[[checker]]\nmatch = "x/*"\nusername = "u"\ncanary_username = "c"\n'
        f'{key} = "{name}"\n'
    )
    with pytest.raises(CommandError) as refused:
        call_command("import_accounts", str(path))
    message = str(refused.value)
    assert f"[[checker]] #3: {key}: {name}" in message
    assert "must start with TLSPOSTURE_CRED_ or match TLSPOSTURE_CRED_ALLOW" in message
    assert not CloudAccount.objects.exists() and not CheckerProfile.objects.exists()


TEAMS_FILE = """
[[account]]
name = "payments-prod"
provider = "aws"
teams = ["payments", "security"]

[[account]]
name = "search-prod"
provider = "aws"
teams = ["search"]
"""


def test_teams_are_created_and_granted_the_account_by_name(tmp_path, capsys):
    from django.contrib.auth.models import Group

    from inventory.models import TeamGrant

    out = _run(tmp_path, TEAMS_FILE, capsys)
    assert "teams created: payments, security, search" in out
    grants = sorted(TeamGrant.objects.values_list("group__name", "pattern"))
    assert grants == [
        ("payments", "payments-prod"),
        ("search", "search-prod"),
        ("security", "payments-prod"),
    ]
    # Idempotent: nothing created or changed the second time.
    again = _run(tmp_path, TEAMS_FILE, capsys)
    assert "teams created" not in again and "updated" not in again
    # A glob grant made in the admin is the admin's: the file leaves it alone.
    TeamGrant.objects.create(group=Group.objects.get(name="security"), pattern="*-prod")
    # The file is the truth for by-name grants: security no longer listed loses it.
    changed = _run(tmp_path, TEAMS_FILE.replace(', "security"', ""), capsys)
    assert "accounts updated: payments-prod" in changed
    assert not TeamGrant.objects.filter(group__name="security", pattern="payments-prod").exists()
    assert TeamGrant.objects.filter(group__name="security", pattern="*-prod").exists()
    assert Group.objects.filter(name="security").exists()  # the team itself stays


def test_without_teams_the_grants_are_left_as_they_are(tmp_path, capsys):
    from inventory.models import TeamGrant

    _run(tmp_path, TEAMS_FILE, capsys)
    _run(tmp_path, TEAMS_FILE.replace('teams = ["search"]', ""), capsys)
    assert TeamGrant.objects.filter(group__name="search", pattern="search-prod").exists()


@pytest.mark.parametrize("teams", ['"payments"', '[""]', "[1]"])
def test_a_malformed_team_list_is_refused_and_nothing_is_written(tmp_path, teams):
    from django.contrib.auth.models import Group

    path = tmp_path / "accounts.toml"
    path.write_text(f'[[account]]\nname = "a"\nprovider = "aws"\nteams = {teams}\n')
    with pytest.raises(CommandError, match="teams"):
        call_command("import_accounts", str(path))
    assert not CloudAccount.objects.exists() and not Group.objects.exists()
