"""Alibaba Cloud ApsaraDB RDS for MySQL through `alibabacloud-rds20140815`.

Per region: DescribeDBInstances (Engine=MySQL, 100 per page), then for every instance
DescribeDBInstanceAttribute (port, kernel), DescribeDBInstanceSSL and DescribeParameters.
The API has no batch form of the last three, so they run on a small thread pool. A failing
per-instance call — denied, throttled past the retries, not implemented, an unparseable
body, a timeout — leaves the facts it gives unknown (with the reason, and a region warning)
and the instances still sync; only a listing that fails fails the region, which then keeps
its earlier data.

Retries (throttling, honouring `x-acs-retry-after`; 5xx; network errors) come from the SDK's
`Config.retry_options` — the only retry mechanism the 16.x SDK honours.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from alibabacloud_rds20140815 import models as rds
from alibabacloud_rds20140815.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from darabonba.exceptions import RetryError, UnretryableException
from darabonba.policy.retry import RetryOptions
from django.conf import settings
from Tea.exceptions import TeaException

from common.credential_names import CredentialNameRefused, read_credential
from inventory.api_transport import require_safe_api_transport
from inventory.facts import RegionInventory, SourceError
from inventory.sources.aliyun_mapping import InstanceLookups, instance_fact

PAGE_SIZE = 100  # the API's maximum
MAX_PAGES = 1000  # a guard against a listing that never ends, far above any real account
# Region used for DescribeRegions; the API answers the same list from every region.
DISCOVERY_REGION = "cn-hangzhou"
# After this many calls of one action fail on the network (each after its own retries), that
# action is taken to be unreachable for the region: it is not tried for the remaining
# instances (their facts from it are unknown), instead of waiting out hundreds of timeouts.
NETWORK_FAILURES_PER_ACTION = 3
THROTTLING_CODES = [
    "Throttling",
    "Throttling.User",
    "Throttling.Api",
    "Throttling.Concurrent",
    "ServiceUnavailable",
]
_MESSAGE_LIMIT = 300

log = logging.getLogger(__name__)


def retry_options(max_attempts: int) -> RetryOptions:
    """Throttling waits as long as the API asks (x-acs-retry-after, capped), else backs off;
    server errors and network failures (timeouts, refused connections) retry quickly."""
    return RetryOptions(
        {
            "retryable": max_attempts > 1,
            "retryCondition": [
                {
                    "maxAttempts": max_attempts,
                    "exception": ["ThrottlingException"],
                    "errorCode": THROTTLING_CODES,
                    "backoff": {
                        "policy": "ExponentialWithEqualJitter",
                        "period": 500,
                        "cap": 10000,
                    },
                    "maxDelay": 20000,
                },
                {
                    "maxAttempts": max_attempts,
                    "exception": ["RetryError", "ServerException"],
                    "backoff": {"policy": "ExponentialWithEqualJitter", "period": 100, "cap": 2000},
                    "maxDelay": 5000,
                },
            ],
        }
    )


@dataclass(frozen=True)
class _Credentials:
    access_key_id: str
    access_key_secret: str
    security_token: str | None

    def redact(self, text: str) -> str:
        for secret in (self.access_key_secret, self.security_token, self.access_key_id):
            if secret:
                text = text.replace(secret, "***")
        return text


def _credentials(account) -> _Credentials:
    """The AccessKey pair (and STS token) from the environment variables the account names."""
    if account.role_arn:
        raise SourceError(
            "assuming a RAM role (role_arn) is not supported for Alibaba accounts: assume it "
            "outside tlsposture and pass the STS credentials through access_key_id_env, "
            "access_key_secret_env and security_token_env"
        )
    wanted = [
        ("access_key_id_env", account.access_key_id_env),
        ("access_key_secret_env", account.access_key_secret_env),
    ]
    if account.security_token_env:
        wanted.append(("security_token_env", account.security_token_env))
    values = []
    for setting, variable in wanted:
        if not variable:
            raise SourceError(f"account {account.name}: {setting} (a variable name) is not set")
        try:
            # Checked again here: an account written before the rule must not leak.
            value = read_credential(variable)
        except CredentialNameRefused as exc:
            raise SourceError(f"{setting} not read: {exc}") from None
        if not value:
            raise SourceError(f"environment variable {variable} ({setting}) is not set")
        values.append(value)
    return _Credentials(values[0], values[1], values[2] if len(values) > 2 else None)


class _NetworkBudget:
    """Counts network failures per action across one region's worker threads."""

    def __init__(self, limit: int):
        self.limit = limit
        self.failures: dict[str, int] = {}
        self._lock = threading.Lock()

    def spend(self, action: str) -> None:
        with self._lock:
            self.failures[action] = self.failures.get(action, 0) + 1

    def exhausted(self, action: str) -> bool:
        return self.failures.get(action, 0) >= self.limit


class _CallFailed(Exception):
    def __init__(self, reason: str, network: bool):
        super().__init__(reason)
        self.reason, self.network = reason, network


@dataclass
class _Listing:
    instances: list = field(default_factory=list)
    pages: int = 0
    complete: bool = True
    warnings: list[str] = field(default_factory=list)


class AliyunSource:
    """Reads one Alibaba Cloud account (CloudAccount with provider "aliyun")."""

    def __init__(self, account):
        self.account = account
        require_safe_api_transport(account)
        self.credentials = _credentials(account)
        tuning = settings.TLSPOSTURE
        self.connect_timeout_ms = int(tuning.get("CLOUD_API_CONNECT_TIMEOUT", 5.0) * 1000)
        self.read_timeout_ms = int(tuning.get("CLOUD_API_READ_TIMEOUT", 30.0) * 1000)
        self.max_attempts = max(1, int(tuning.get("CLOUD_API_ATTEMPTS", 5)))
        self.workers = max(1, int(tuning.get("ALIYUN_INSTANCE_WORKERS", 4)))

    # ---- the source protocol -------------------------------------------------------------

    def regions(self) -> list[str]:
        if self.account.regions:
            return list(dict.fromkeys(self.account.regions))
        client = self._client(DISCOVERY_REGION)
        body = self._call("DescribeRegions", client.describe_regions, rds.DescribeRegionsRequest())
        rows = body.regions.rdsregion if body.regions and body.regions.rdsregion else []
        # One row per zone: a region appears once per zone it has.
        return list(dict.fromkeys(row.region_id for row in rows if row.region_id))

    def fetch_region(self, region: str) -> RegionInventory:
        client = self._client(region)
        listing = self._list_instances(client, region)
        budget = _NetworkBudget(NETWORK_FAILURES_PER_ACTION)
        workers = min(self.workers, max(1, len(listing.instances)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aliyun") as pool:
            found = list(
                pool.map(lambda item: self._look_up(client, item, budget), listing.instances)
            )
        facts = tuple(
            instance_fact(item, lookups)
            for item, (lookups, _) in zip(listing.instances, found, strict=True)
        )
        warnings = list(listing.warnings)
        warnings += _lookup_warnings(listing.instances, [lookups for lookups, _ in found])
        return RegionInventory(
            region=region,
            instances=facts,
            complete=listing.complete,
            api_calls=listing.pages + sum(calls for _, calls in found),
            warnings=tuple(warnings),
        )

    # ---- SDK calls -----------------------------------------------------------------------

    def _client(self, region: str) -> Client:
        config = open_api_models.Config(
            access_key_id=self.credentials.access_key_id,
            access_key_secret=self.credentials.access_key_secret,
            security_token=self.credentials.security_token,
            region_id=region,
            endpoint=self.account.endpoint or None,
            protocol=self.account.protocol or "https",
            connect_timeout=self.connect_timeout_ms,
            read_timeout=self.read_timeout_ms,
            max_idle_conns=self.workers,
            retry_options=retry_options(self.max_attempts),
        )
        return Client(config)

    def _list_instances(self, client: Client, region: str) -> _Listing:
        listing, seen, totals = _Listing(), {}, set()
        for page in range(1, MAX_PAGES + 1):
            request = rds.DescribeDBInstancesRequest(
                region_id=region, engine="MySQL", page_size=PAGE_SIZE, page_number=page
            )
            body = self._call("DescribeDBInstances", client.describe_dbinstances, request)
            listing.pages += 1
            rows = body.items.dbinstance if body.items and body.items.dbinstance else []
            totals.add(body.total_record_count)
            for row in rows:
                if row.dbinstance_id and (row.engine or "MySQL").lower() == "mysql":
                    seen.setdefault(row.dbinstance_id, row)
            total = body.total_record_count
            if len(rows) < PAGE_SIZE or (total is not None and page * PAGE_SIZE >= total):
                break
        listing.instances = sorted(seen.values(), key=lambda row: row.dbinstance_id)
        (total,) = totals if len(totals) == 1 else (None,)
        if total is None or total != len(seen):
            # Instances created or deleted between pages shift the pages: one may have been
            # skipped, so nothing missing from this listing may be called gone.
            listing.complete = False
            listing.warnings.append(
                f"the instance list changed while it was read ({len(seen)} read, totals "
                f"{sorted(t for t in totals if t is not None)}); nothing is marked gone"
            )
        return listing

    def _look_up(self, client: Client, listed, budget: _NetworkBudget):
        """The three per-instance calls; each failure is recorded, never raised."""
        lookups, calls = InstanceLookups(), 0
        instance_id = listed.dbinstance_id
        wanted: list[tuple[str, str, Callable, object]] = [
            (
                "attribute",
                "DescribeDBInstanceAttribute",
                client.describe_dbinstance_attribute,
                rds.DescribeDBInstanceAttributeRequest(dbinstance_id=instance_id),
            ),
            (
                "ssl",
                "DescribeDBInstanceSSL",
                client.describe_dbinstance_ssl,
                rds.DescribeDBInstanceSSLRequest(dbinstance_id=instance_id),
            ),
            (
                "parameters",
                "DescribeParameters",
                client.describe_parameters,
                rds.DescribeParametersRequest(dbinstance_id=instance_id),
            ),
        ]
        for key, action, method, request in wanted:
            if budget.exhausted(action):
                lookups.errors[key] = (
                    f"{action}: not tried, it failed on the network for "
                    f"{budget.limit} other instances of the region"
                )
                continue
            calls += 1
            try:
                body = self._call(action, method, request, raw=True)
            except _CallFailed as exc:
                if exc.network:
                    budget.spend(action)
                lookups.errors[key] = exc.reason
                continue
            if key == "attribute":
                items = body.items.dbinstance_attribute if body.items else None
                if items:
                    lookups.attribute = items[0]
                else:
                    lookups.errors[key] = f"{action} returned no attribute for {instance_id}"
            else:
                setattr(lookups, key, body)
        return lookups, calls

    def _call(self, action: str, method: Callable, request, *, raw: bool = False):
        """Call the SDK; the response body, or SourceError (`raw`: _CallFailed)."""
        try:
            return method(request).body
        except Exception as exc:  # every SDK failure becomes a user-safe reason
            reason, network = self._explain(action, exc)
            if raw:
                raise _CallFailed(reason, network) from None
            raise SourceError(reason) from None

    def _explain(self, action: str, exc: Exception) -> tuple[str, bool]:
        """A secret-free, one-line reason, and whether the network (not the API) failed."""
        inner = exc.inner_exception if isinstance(exc, UnretryableException) else exc
        network = False
        if isinstance(inner, RetryError):
            network = True
            what = "timed out" if "timed out" in str(inner.message).lower() else "unreachable"
            text = (
                f"{action}: the API {what} after {self.max_attempts} attempt(s) ({inner.message})"
            )
        elif _is_malformed_body(inner):
            text = f"{action}: malformed response (not JSON)"
        elif isinstance(inner, TeaException) and getattr(inner, "code", None):
            data = inner.data if isinstance(inner.data, dict) else {}
            message = data.get("Message") or inner.message or ""
            status = getattr(inner, "status_code", None)
            text = f"{action}: {f'HTTP {status} ' if status else ''}{inner.code}: {message}"
            request_id = data.get("RequestId")
            if request_id:
                text += f" (request id {request_id})"
        else:
            text = f"{action}: unexpected {type(inner).__name__}"
            log.warning(
                "%s failed unexpectedly: %s", action, self.credentials.redact(str(inner))[:500]
            )
        text = self.credentials.redact(" ".join(text.split()))
        return text[:_MESSAGE_LIMIT], network


# What each per-instance lookup gives, for the region warning when it fails.
_LOOKUP_GIVES = {
    "attribute": "ports and kernel versions (earlier ports are kept)",
    "ssl": "SSL enabled, SSL forced and certificate expiry",
    "parameters": "running TLS parameters (earlier values are kept)",
}


def _lookup_warnings(listed: list, found: list[InstanceLookups]) -> list[str]:
    """One warning per per-instance lookup that failed anywhere in the region."""
    warnings = []
    for key, gives in _LOOKUP_GIVES.items():
        failed = [
            (row.dbinstance_id, f.errors[key])
            for row, f in zip(listed, found, strict=True)
            if key in f.errors
        ]
        if failed:
            ident, why = failed[0]
            warnings.append(
                f"{len(failed)} of {len(listed)} instances: {gives} unknown ({ident}: {why})"
            )
    return warnings


def _is_malformed_body(exc: Exception) -> bool:
    # darabonba turns a body json.loads rejects into RuntimeError("Failed to parse ... json").
    return isinstance(exc, ValueError | UnicodeDecodeError) or (
        isinstance(exc, RuntimeError) and "json" in str(exc).lower()
    )
