"""Plain, frozen facts that sources return and `services.sync_account` writes.

Sources (inventory/sources/*.py) turn SDK responses into these; they never touch models.
Times are aware UTC datetimes. A value that could not be looked up is None, and the reason
goes into `lookup_errors` — never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ParameterFact:
    name: str
    raw_value: str | None  # None: the API gave no value (the default applies)
    source: str  # a TLSParameter.Source value
    source_name: str = ""  # parameter group name
    set_by: str = ""  # user | system | engine-default
    apply_type: str = ""  # static | dynamic
    apply_status: str = ""  # pending-reboot, in-sync …
    is_modifiable: bool | None = None


@dataclass(frozen=True)
class PendingActionFact:
    action: str  # a PendingAction.Action value
    description: str = ""
    auto_applied_after: datetime | None = None
    forced_apply_date: datetime | None = None
    current_apply_date: datetime | None = None
    opt_in_status: str = ""


@dataclass(frozen=True)
class InstanceFact:
    kind: str  # instance | cluster | proxy
    identifier: str
    resource_id: str  # ARN (AWS) or DBInstanceId (Alibaba): the upsert key
    engine: str
    engine_version: str = ""
    status: str = ""
    role: str = ""
    parent_resource_id: str = ""  # cluster of a member, primary of a read-only replica
    proxy_target_resource_ids: tuple[str, ...] = ()
    endpoint_host: str = ""
    endpoint_port: int | None = None
    reader_endpoint_host: str = ""
    parameter_group: str = ""
    parameter_group_is_default: bool | None = None
    parameter_apply_status: str = ""
    parameters: tuple[ParameterFact, ...] = ()
    ca_identifier: str = ""
    pending_ca_identifier: str = ""
    server_cert_not_after: datetime | None = None
    server_cert_source: str = ""
    publicly_accessible: bool | None = None
    iam_auth_enabled: bool | None = None
    proxy_require_tls: bool | None = None
    ssl_enabled: bool | None = None
    ssl_forced: bool | None = None
    ssl_endpoint: str = ""
    ssl_ca_type: str = ""
    pending_actions: tuple[PendingActionFact, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    details: tuple[tuple[str, str], ...] = ()
    lookup_errors: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CAFact:
    identifier: str
    valid_from: datetime | None = None
    valid_till: datetime | None = None
    thumbprint: str = ""
    key_algorithm: str = ""
    customer_override: bool = False
    customer_override_valid_till: datetime | None = None
    default_for_new_launches: bool = False


@dataclass(frozen=True)
class RegionInventory:
    """Everything one region holds. `complete` means instances missing from it are gone;
    `unlisted_kinds` are kinds whose listing failed (clusters, proxies): their earlier rows
    are kept as they were, never marked gone."""

    region: str
    instances: tuple[InstanceFact, ...] = ()
    cas: tuple[CAFact, ...] = ()
    complete: bool = True
    api_calls: int = 0
    warnings: tuple[str, ...] = field(default=())
    unlisted_kinds: frozenset[str] = frozenset()


class SourceError(Exception):
    """A region or account could not be read. The message is shown to users: no secrets."""
