"""AWS inventory source: RDS MySQL/MariaDB, Aurora MySQL and RDS Proxy of one account.

Credentials come from the SDK's default chain, or from an STS role assumed once per account
and refreshed before it expires. Each region is fetched with its own boto3 session (sessions
are not thread-safe; `sync_account` fetches regions in a thread pool) and counts the HTTP
requests it sends, retries included. botocore retries in standard mode with connect and read
timeouts; what still fails becomes a SourceError whose text names the error, never a secret.
"""

from __future__ import annotations

import re
import threading
from dataclasses import replace

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.parsers import ResponseParserError
from django.conf import settings

from inventory.api_transport import require_safe_api_transport
from inventory.facts import RegionInventory, SourceError
from inventory.sources.aws_region import RegionReader

# What the API (or something posing as it: a proxy answering HTML, moto's 500 page) can do
# to a call. botocore raises ResponseParserError, which is no BotoCoreError, for a body it
# cannot parse.
API_ERRORS = (ClientError, BotoCoreError, ResponseParserError)
ROLE_SESSION_NAME = "tlsposture-inventory"
HOME_REGION = "us-east-1"  # where STS and region discovery go when no region is configured
_MAX_MESSAGE = 400


class AwsSource:
    """InventorySource for one CloudAccount (anything with its attributes will do)."""

    def __init__(self, account):
        require_safe_api_transport(account)
        self.account = account
        self._lock = threading.Lock()
        self._credentials = None
        self._credentials_error: SourceError | None = None

    def regions(self) -> list[str]:
        if self.account.regions:
            return list(self.account.regions)
        ec2 = self._client("ec2", self._home_region(), _RequestCounter())
        try:
            answer = ec2.describe_regions()
        except API_ERRORS as exc:
            raise SourceError(f"regions could not be discovered: {describe_error(exc)}") from None
        return sorted(r["RegionName"] for r in answer.get("Regions", ()))

    def fetch_region(self, region: str) -> RegionInventory:
        counter = _RequestCounter()
        try:
            rds = self._client("rds", region, counter)
            inventory = RegionReader(rds, region, describe_error, API_ERRORS).read()
        except API_ERRORS as exc:
            raise SourceError(describe_error(exc)) from None
        return replace(inventory, api_calls=counter.count)

    # ---- sessions and credentials -------------------------------------------------------

    def _client(self, service: str, region: str, counter: _RequestCounter):
        frozen = self._frozen_credentials()
        session = boto3.Session(
            aws_access_key_id=frozen.access_key,
            aws_secret_access_key=frozen.secret_key,
            aws_session_token=frozen.token,
            region_name=region,
        )
        client = session.client(
            service, endpoint_url=self.account.endpoint_url or None, config=client_config()
        )
        client.meta.events.register("request-created", counter)
        return client

    def _frozen_credentials(self):
        with self._lock:
            if self._credentials is None and self._credentials_error is None:
                try:
                    self._credentials = self._resolve_credentials()
                except SourceError as exc:
                    # Every region would fail the same way: ask STS once, not per region.
                    self._credentials_error = exc
            if self._credentials_error is not None:
                raise SourceError(str(self._credentials_error))
        return self._credentials.get_frozen_credentials()

    def _resolve_credentials(self):
        base = botocore.session.Session()
        try:
            credentials = base.get_credentials()
        except BotoCoreError as exc:
            raise SourceError(describe_error(exc)) from None
        if credentials is None:
            raise SourceError(describe_error(NoCredentialsError()))
        if not self.account.role_arn:
            return credentials
        sts = boto3.Session(botocore_session=base).client(
            "sts",
            region_name=self._home_region(),
            endpoint_url=self.account.endpoint_url or None,
            config=client_config(),
        )

        def assume_role() -> dict:
            answer = sts.assume_role(
                RoleArn=self.account.role_arn, RoleSessionName=ROLE_SESSION_NAME
            )["Credentials"]
            return {
                "access_key": answer["AccessKeyId"],
                "secret_key": answer["SecretAccessKey"],
                "token": answer["SessionToken"],
                "expiry_time": answer["Expiration"].isoformat(),
            }

        try:
            return RefreshableCredentials.create_from_metadata(
                metadata=assume_role(), refresh_using=assume_role, method="sts-assume-role"
            )
        except API_ERRORS as exc:
            raise SourceError(
                f"role {self.account.role_arn} could not be assumed: {describe_error(exc)}"
            ) from None

    def _home_region(self) -> str:
        return (self.account.regions or [HOME_REGION])[0]


class _RequestCounter:
    """Counts HTTP requests (each retry too) through botocore's event system."""

    def __init__(self):
        self.count = 0

    def __call__(self, **_):
        self.count += 1


def client_config() -> Config:
    limits = settings.TLSPOSTURE
    return Config(
        retries={"mode": "standard", "total_max_attempts": limits["CLOUD_API_ATTEMPTS"]},
        connect_timeout=limits["CLOUD_API_CONNECT_TIMEOUT"],
        read_timeout=limits["CLOUD_API_READ_TIMEOUT"],
        user_agent_extra="tlsposture",
    )


_USERINFO = re.compile(r"(?<=//)[^/@\s]+@")
_TOKEN = re.compile(r"(?i)(x-amz-security-token|sessiontoken|signature)([=:]\s*)[^\s&,;]+")


def describe_error(exc: Exception) -> str:
    """One line a user can act on: the AWS error code and message, or the transport failure."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code") or "Error"
        message = error.get("Message") or ""
        retries = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        text = f"{code}: {message}" if message else code
        text += f" ({exc.operation_name}"
        text += f", gave up after {retries + 1} attempts)" if retries else ")"
    elif isinstance(exc, NoCredentialsError):
        text = "NoCredentials: no AWS credentials in the environment, shared files or role"
    elif isinstance(exc, ResponseParserError):
        text = f"unparseable answer: {_what_came(str(exc))}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = _TOKEN.sub(r"\1\2…", _USERINFO.sub("", " ".join(text.split())))
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


_HTML_TITLE = re.compile(r"<title>([^<]{1,120})</title>", re.IGNORECASE)


def _what_came(message: str) -> str:
    """What a body botocore could not parse looked like, without echoing the body itself
    (an HTML error page of a proxy, moto's 500 page for an action it does not implement)."""
    title = _HTML_TITLE.search(message)
    if title:
        return f"an HTML page ({title.group(1).strip()}) instead of the API's XML"
    if "<html" in message.lower() or "<!doctype html" in message.lower():
        return "an HTML page instead of the API's XML"
    return "a body that is not the API's XML"
