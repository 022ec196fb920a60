"""The only writer of inventory models: account import and `sync_account`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common.as_code import EntryError, EntrySchema, check_entry, upsert_by_name
from common.normalise import TLS_PARAMETERS, normalise_parameter
from common.queues import DEFAULT_ZONE, validate_zone_name
from common.runs import close_abandoned_runs
from inventory.api_transport import api_transport_problems
from inventory.facts import InstanceFact, RegionInventory, SourceError
from inventory.models import (
    CACertificate,
    CloudAccount,
    DBInstance,
    PendingAction,
    Provider,
    SyncRegion,
    SyncRun,
    TLSParameter,
)
from inventory.signals import sync_finished
from inventory.sources import source_for

log = logging.getLogger(__name__)

Progress = Callable[..., None]

# DBInstance fields copied verbatim from InstanceFact.
_COPIED_FIELDS = (
    "kind",
    "identifier",
    "engine",
    "engine_version",
    "status",
    "role",
    "endpoint_host",
    "endpoint_port",
    "reader_endpoint_host",
    "parameter_group",
    "parameter_group_is_default",
    "parameter_apply_status",
    "ca_identifier",
    "pending_ca_identifier",
    "server_cert_not_after",
    "server_cert_source",
    "publicly_accessible",
    "iam_auth_enabled",
    "proxy_require_tls",
    "ssl_enabled",
    "ssl_forced",
    "ssl_endpoint",
    "ssl_ca_type",
)
_DICT_FIELDS = ("tags", "details", "lookup_errors")
_DERIVED_FIELDS = ("ca_id", "ca_lookup_error", "parent_id", "gone_at")
_INSTANCE_UPDATE_FIELDS = _COPIED_FIELDS + _DICT_FIELDS + _DERIVED_FIELDS
# A lookup that failed (its key in InstanceFact.lookup_errors) leaves these fields as the
# last sync saw them, instead of blanking them: unknown now is not "gone" (DESIGN.md).
_KEPT_WHEN_UNREAD = {
    "cluster": ("role", "parameter_group", "parameter_group_is_default", "parameter_apply_status"),
    "tags": ("tags",),
    "attribute": ("endpoint_port",),
}

_PARAMETER_FIELDS = (
    "raw_value",
    "normalised_value",
    "source",
    "source_name",
    "set_by",
    "apply_type",
    "apply_status",
    "is_modifiable",
)
_CA_FIELDS = (
    "valid_from",
    "valid_till",
    "thumbprint",
    "key_algorithm",
    "customer_override",
    "customer_override_valid_till",
    "default_for_new_launches",
)
_ACTION_FIELDS = (
    "description",
    "auto_applied_after",
    "forced_apply_date",
    "current_apply_date",
    "opt_in_status",
)
# Fetching regions is network-bound; writing stays on the calling thread.
REGION_FETCH_THREADS = 4


@dataclass
class RegionOutcome:
    region: str
    ok: bool
    error: str = ""
    instances_found: int = 0
    created: int = 0
    changed: int = 0
    marked_gone: int = 0
    api_calls: int = 0
    warnings: list[str] = field(default_factory=list)


def sync_accounts(
    accounts: Iterable[CloudAccount],
    regions: list[str] | None = None,
    *,
    trigger: str = "command",
    progress: Progress | None = None,
) -> list[SyncRun]:
    return [
        sync_account(account, regions, trigger=trigger, progress=progress) for account in accounts
    ]


def sync_account(
    account: CloudAccount,
    regions: list[str] | None = None,
    *,
    trigger: str = "command",
    progress: Progress | None = None,
    source=None,
    task_id: str = "",
) -> SyncRun:
    """Read every region of an account and write what it holds.

    A region that fails keeps its earlier data and records why; the other regions go on.
    """
    notify = progress or (lambda *a, **k: None)
    run = SyncRun.objects.create(
        account=account, started_at=timezone.now(), trigger=trigger, task_id=task_id
    )
    outcomes: list[RegionOutcome] = []
    try:
        source = source or source_for(account)
        region_names = list(dict.fromkeys(regions or account.regions or source.regions()))
    except SourceError as exc:
        return _account_done(notify, _finish(run, outcomes, error=str(exc)))
    except Exception as exc:  # a misconfigured account must not stop the other accounts
        log.exception("sync of account %s could not start", account.name)
        return _account_done(notify, _finish(run, outcomes, error=f"{type(exc).__name__}: {exc}"))

    notify("account-start", account=account.name, regions=len(region_names))
    with ThreadPoolExecutor(max_workers=min(REGION_FETCH_THREADS, max(1, len(region_names)))) as ex:
        futures = {region: ex.submit(_fetch, source, region) for region in region_names}
        for region in region_names:
            started = timezone.now()
            inventory, error = futures[region].result()
            if error:
                outcome = RegionOutcome(region=region, ok=False, error=error)
            else:
                outcome = write_region(account, inventory)
            SyncRegion.objects.create(
                run=run,
                region=region,
                status=SyncRegion.Status.OK if outcome.ok else SyncRegion.Status.FAILED,
                error=outcome.error,
                warnings=outcome.warnings,
                instances_found=outcome.instances_found,
                api_calls=outcome.api_calls,
                started_at=started,
                finished_at=timezone.now(),
            )
            outcomes.append(outcome)
            notify(
                "region-done",
                account=account.name,
                region=region,
                ok=outcome.ok,
                instances=outcome.instances_found,
                error=outcome.error,
                warnings=outcome.warnings,
            )
    return _account_done(notify, _finish(run, outcomes))


def record_sync_failure(
    account: CloudAccount, error: str, *, trigger: str, task_id: str = ""
) -> SyncRun:
    """A sync that could not start (e.g. regions not discoverable), recorded as failed."""
    run = SyncRun.objects.create(
        account=account, started_at=timezone.now(), trigger=trigger, task_id=task_id
    )
    return _finish(run, [], error=error)


def abandon_sync_runs(
    *, reason: str, task_id: str = "", started_before: datetime | None = None
) -> int:
    """Close runs a dead worker or process left `running` as failed; returns how many.

    Nothing of theirs needs undoing: each region is written in one transaction, so a run
    that died kept only whole regions. Without this they would look in progress forever.
    """
    return close_abandoned_runs(
        SyncRun.objects.all(), reason=reason, task_id=task_id, started_before=started_before
    )


def _account_done(notify: Progress, run: SyncRun) -> SyncRun:
    notify("account-done", account=run.account.name, status=run.status, error=run.error)
    return run


def _fetch(source, region: str) -> tuple[RegionInventory | None, str]:
    try:
        return source.fetch_region(region), ""
    except SourceError as exc:
        return None, str(exc) or type(exc).__name__
    except Exception as exc:
        log.exception("region %s failed unexpectedly", region)
        return None, f"unexpected {type(exc).__name__}: {exc}"


def _finish(run: SyncRun, outcomes: list[RegionOutcome], error: str = "") -> SyncRun:
    failed = [o for o in outcomes if not o.ok]
    if error or (outcomes and len(failed) == len(outcomes)):
        run.status = SyncRun.Status.FAILED
    elif failed:
        run.status = SyncRun.Status.PARTIAL
    else:
        run.status = SyncRun.Status.OK
    run.error = error
    run.finished_at = timezone.now()
    run.instances_seen = sum(o.instances_found for o in outcomes)
    run.created = sum(o.created for o in outcomes)
    run.changed = sum(o.changed for o in outcomes)
    run.marked_gone = sum(o.marked_gone for o in outcomes)
    run.api_calls = sum(o.api_calls for o in outcomes)
    run.save()
    sync_finished.send(sender=SyncRun, run=run, account=run.account)
    return run


@transaction.atomic
def write_region(account: CloudAccount, inventory: RegionInventory) -> RegionOutcome:
    """Upsert one region's facts; all or nothing, so a failure keeps the earlier data."""
    now = timezone.now()
    region = inventory.region
    outcome = RegionOutcome(
        region=region,
        ok=True,
        instances_found=len(inventory.instances),
        api_calls=inventory.api_calls,
        warnings=list(inventory.warnings),
    )
    cas = _write_cas(account, inventory, now)

    existing = {
        row.resource_id: row for row in DBInstance.objects.filter(account=account, region=region)
    }
    by_resource: dict[str, DBInstance] = {}
    to_create, to_update = [], []
    for fact in inventory.instances:
        row = existing.get(fact.resource_id)
        if row is None:
            row = DBInstance(
                account=account,
                provider=account.provider,
                region=region,
                resource_id=fact.resource_id,
                first_seen=now,
                last_seen=now,
            )
            _apply_instance_fact(row, fact, cas, inventory)
            to_create.append(row)
        elif _apply_instance_fact(row, fact, cas, inventory):
            to_update.append(row)
        by_resource[fact.resource_id] = row
    DBInstance.objects.bulk_create(to_create, batch_size=500)
    outcome.created = len(to_create)

    # Parents can only be resolved once every row of the region has an id.
    created_ids = {row.pk for row in to_create}
    updated_ids = {row.pk for row in to_update}
    new_parents = []
    for fact in inventory.instances:
        row = by_resource[fact.resource_id]
        if _unread(fact, "cluster"):
            continue  # the parent stays what the last sync saw
        parent = by_resource.get(fact.parent_resource_id) if fact.parent_resource_id else None
        parent_id = parent.pk if parent else None
        if row.parent_id != parent_id:
            row.parent_id = parent_id
            if row.pk in created_ids:
                new_parents.append(row)
            elif row.pk not in updated_ids:
                to_update.append(row)
                updated_ids.add(row.pk)
    DBInstance.objects.bulk_update(new_parents, ["parent_id"], batch_size=500)

    DBInstance.objects.bulk_update(to_update, _INSTANCE_UPDATE_FIELDS, batch_size=500)
    outcome.changed = len(to_update)
    seen_ids = [row.pk for row in by_resource.values()]
    for start in range(0, len(seen_ids), 500):
        DBInstance.objects.filter(pk__in=seen_ids[start : start + 500]).update(last_seen=now)

    if inventory.complete:
        vanished = [
            row.pk
            for resource_id, row in existing.items()
            if resource_id not in by_resource
            and row.gone_at is None
            and row.kind not in inventory.unlisted_kinds
        ]
        for start in range(0, len(vanished), 500):
            DBInstance.objects.filter(pk__in=vanished[start : start + 500]).update(gone_at=now)
        outcome.marked_gone = len(vanished)

    outcome.changed += _write_parameters(by_resource, inventory.instances, now)
    outcome.changed += _write_pending_actions(by_resource, inventory.instances, now)
    outcome.changed += _write_proxy_targets(account, by_resource, inventory.instances)
    return outcome


def _apply_instance_fact(row: DBInstance, fact: InstanceFact, cas, inventory) -> bool:
    """Copy a fact onto a row; True when anything changed."""
    ca = cas.get(fact.ca_identifier) if fact.ca_identifier else None
    if not fact.ca_identifier or ca is not None:
        ca_error = ""
    elif inventory.cas:
        ca_error = f"{fact.ca_identifier} is not among the CAs the region lists"
    else:
        ca_error = "the region's CA list could not be read"
    wanted = {name: getattr(fact, name) for name in _COPIED_FIELDS}
    wanted.update({name: dict(getattr(fact, name)) for name in _DICT_FIELDS})
    wanted.update(ca_id=ca.pk if ca else None, ca_lookup_error=ca_error, gone_at=None)
    if row.pk is not None:
        for what, fields in _KEPT_WHEN_UNREAD.items():
            if _unread(fact, what):
                for name in fields:
                    wanted.pop(name)
    changed = False
    for name, value in wanted.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _unread(fact: InstanceFact, what: str) -> bool:
    return any(key == what for key, _ in fact.lookup_errors)


def _write_cas(account: CloudAccount, inventory: RegionInventory, now) -> dict[str, CACertificate]:
    existing = {
        ca.identifier: ca
        for ca in CACertificate.objects.filter(account=account, region=inventory.region)
    }
    for fact in inventory.cas:
        ca = existing.get(fact.identifier)
        values = {name: getattr(fact, name) for name in _CA_FIELDS}
        if ca is None:
            ca = CACertificate.objects.create(
                account=account,
                region=inventory.region,
                identifier=fact.identifier,
                first_seen=now,
                last_seen=now,
                **values,
            )
            existing[fact.identifier] = ca
            continue
        changed = [name for name, value in values.items() if getattr(ca, name) != value]
        for name in changed:
            setattr(ca, name, values[name])
        ca.last_seen = now
        ca.save(update_fields=[*changed, "last_seen"])
    return existing


def _write_parameters(by_resource, facts, now) -> int:
    rows = {
        (p.instance_id, p.name): p
        for p in TLSParameter.objects.filter(instance__in=[r.pk for r in by_resource.values()])
    }
    to_create, to_update, keep = [], [], set()
    for fact in facts:
        instance = by_resource[fact.resource_id]
        for param in fact.parameters:
            key = (instance.pk, param.name)
            keep.add(key)
            values = {
                name: getattr(param, name)
                for name in _PARAMETER_FIELDS
                if name != "normalised_value"
            }
            values["normalised_value"] = normalise_parameter(param.name, param.raw_value)
            row = rows.get(key)
            if row is None:
                to_create.append(
                    TLSParameter(instance=instance, name=param.name, updated_at=now, **values)
                )
            elif any(getattr(row, n) != v for n, v in values.items()):
                for n, v in values.items():
                    setattr(row, n, v)
                row.updated_at = now
                to_update.append(row)
    unread = _unread_parameters(by_resource, facts)
    stale = [
        row.pk
        for key, row in rows.items()
        if key not in keep and key not in unread and (key[0], "*") not in unread
    ]
    TLSParameter.objects.bulk_create(to_create, batch_size=500)
    TLSParameter.objects.bulk_update(to_update, [*_PARAMETER_FIELDS, "updated_at"], batch_size=500)
    TLSParameter.objects.filter(pk__in=stale).delete()
    return len(to_update) + len(stale)


def _unread_parameters(by_resource, facts) -> set[tuple[int, str]]:
    """(instance pk, parameter name or "*") whose lookup failed this time.

    A failed lookup is unknown, not absent: the rows read earlier stay (with their
    updated_at) instead of being deleted as if the parameter were no longer set.
    """
    unread = set()
    for fact in facts:
        pk = by_resource[fact.resource_id].pk
        for what, _reason in fact.lookup_errors:
            if what == "parameters":
                unread.add((pk, "*"))
            elif what in TLS_PARAMETERS:
                unread.add((pk, what))
    return unread


def _write_pending_actions(by_resource, facts, now) -> int:
    rows = {
        (a.instance_id, a.action): a
        for a in PendingAction.objects.filter(instance__in=[r.pk for r in by_resource.values()])
    }
    to_create, to_update, keep = [], [], set()
    for fact in facts:
        instance = by_resource[fact.resource_id]
        for action in fact.pending_actions:
            key = (instance.pk, action.action)
            keep.add(key)
            values = {name: getattr(action, name) for name in _ACTION_FIELDS}
            row = rows.get(key)
            if row is None:
                to_create.append(
                    PendingAction(
                        instance=instance,
                        action=action.action,
                        first_seen=now,
                        last_seen=now,
                        **values,
                    )
                )
            else:
                if any(getattr(row, n) != v for n, v in values.items()):
                    to_update.append(row)
                for n, v in values.items():
                    setattr(row, n, v)
    # A lookup that failed says nothing about what it reports: keep what was known. The SSL
    # lookup reports renewals (ApsaraDB), pending maintenance the CA rotations (AWS).
    unread = {
        (by_resource[f.resource_id].pk, action)
        for f in facts
        for what, action in (
            ("ssl", PendingAction.Action.SSL_RENEWAL),
            ("pending_actions", PendingAction.Action.CA_ROTATION),
        )
        if _unread(f, what)
    }
    done = [row.pk for key, row in rows.items() if key not in keep and key not in unread]
    PendingAction.objects.bulk_create(to_create, batch_size=500)
    PendingAction.objects.bulk_update(to_update, list(_ACTION_FIELDS), batch_size=500)
    PendingAction.objects.filter(pk__in=[r.pk for k, r in rows.items() if k in keep]).update(
        last_seen=now
    )
    PendingAction.objects.filter(pk__in=done).delete()
    return len(to_create) + len(to_update) + len(done)


def _write_proxy_targets(account, by_resource, facts) -> int:
    proxies = [f for f in facts if f.kind == DBInstance.Kind.PROXY]
    if not proxies:
        return 0
    wanted_ids = {f.resource_id: set(f.proxy_target_resource_ids) for f in proxies}
    all_targets = set().union(*wanted_ids.values())
    # Targets may live anywhere in the account (a proxy can front a cluster in its region).
    target_pks = dict(
        DBInstance.objects.filter(account=account, resource_id__in=all_targets).values_list(
            "resource_id", "pk"
        )
    )
    changed = 0
    for proxy_fact in proxies:
        if _unread(proxy_fact, "targets"):
            continue  # its targets could not be read: the links stay as they were
        proxy = by_resource[proxy_fact.resource_id]
        wanted = {target_pks[r] for r in wanted_ids[proxy_fact.resource_id] if r in target_pks}
        current = set(proxy.proxy_targets.values_list("pk", flat=True))
        if wanted != current:
            proxy.proxy_targets.set(wanted)
            changed += 1
    return changed


# ---- accounts as code -------------------------------------------------------------------

ACCOUNT_SCHEMA = EntrySchema(
    table="account",
    strings=frozenset(
        {
            "name",
            "provider",
            "role_arn",
            "endpoint_url",
            "endpoint",
            "protocol",
            "access_key_id_env",
            "access_key_secret_env",
            "security_token_env",
            "network_zone",
            "ca_bundle",
            "proxy_ca_bundle",
        }
    ),
    booleans=frozenset({"enabled"}),
    string_lists=frozenset({"regions"}),
    secret_keys=frozenset(
        {"access_key_id", "access_key_secret", "secret_access_key", "password", "token"}
    ),
    instead_of_secrets=(
        "name an environment variable instead (access_key_id_env, access_key_secret_env)"
    ),
)


def validate_account_entry(index: int, entry: dict) -> dict:
    where = check_entry(ACCOUNT_SCHEMA, index, entry)
    name = entry.get("name", "").strip()
    if not name:
        raise EntryError(f"{where}: name is required")
    if entry.get("provider") not in Provider.values:
        raise EntryError(f"{where} ({name}): provider must be one of {', '.join(Provider.values)}")
    if entry.get("protocol", "https") not in CloudAccount.Protocol.values:
        raise EntryError(f"{where} ({name}): protocol must be https or http")
    try:
        validate_zone_name(entry.get("network_zone", DEFAULT_ZONE))
    except ValidationError as exc:
        raise EntryError(f"{where} ({name}): {exc.messages[0]}") from None
    problems = api_transport_problems(SimpleNamespace(**entry))
    if problems:
        raise EntryError(f"{where} ({name}): {'; '.join(problems.values())}")
    return {**entry, "name": name, "regions": list(dict.fromkeys(entry.get("regions", [])))}


def import_accounts(entries: list[dict]) -> dict[str, list[str]]:
    """Create or update accounts keyed by name. Returns names by outcome."""
    cleaned = [validate_account_entry(i, e) for i, e in enumerate(entries)]
    with transaction.atomic():
        return upsert_by_name(CloudAccount, "account", cleaned, ACCOUNT_SCHEMA.keys - {"name"})
