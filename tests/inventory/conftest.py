"""AWS for inventory tests: moto in this process, with fleet.moto_rds filling its gaps."""

from __future__ import annotations

import pytest
from moto import mock_aws

from fleet import moto_rds
from tests.inventory.aws_world import AwsWorld


@pytest.fixture
def aws_credentials(monkeypatch, tmp_path):
    """Dummy credentials through the default chain; no profile or endpoint from the host."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_RDS", "AWS_ENDPOINT_URL_STS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def aws(aws_credentials):
    """An empty AWS (every account, every region) for the length of one test."""
    moto_rds.install()
    with mock_aws():
        yield AwsWorld()


@pytest.fixture
def quick_retries(settings):
    """Two attempts per call: enough to see a retry, short enough to keep tests fast."""
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "CLOUD_API_ATTEMPTS": 2}
