"""Writes one region's inventory: endpoints, their CAs, TLS parameters, pending actions
and proxy targets, all in one transaction, so a failure keeps the earlier data.

The sync (inventory/services.py) calls it on its own thread while a pool fetches the next
regions: fetching is network-bound, writing stays on one thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from common.normalise import TLS_PARAMETERS, normalise_parameter
from inventory.child_rows import ChildRows, write_child_rows
from inventory.facts import InstanceFact, RegionInventory
from inventory.models import CACertificate, CloudAccount, DBInstance, PendingAction, TLSParameter

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
# last sync saw them, instead of blanking them: unknown now is not "gone"
# (docs/design.md "Evidence and precedence").
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

    # Changed: endpoints seen before whose row or child rows changed, each counted once.
    changed = updated_ids.union(
        _write_parameters(by_resource, inventory.instances, now),
        _write_pending_actions(by_resource, inventory.instances, now),
        _write_proxy_targets(account, by_resource, inventory.instances),
    )
    outcome.changed = len(changed - created_ids)
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


PARAMETER_ROWS = ChildRows(
    TLSParameter, "name", _PARAMETER_FIELDS, stamped_when_changed=("updated_at",)
)
PENDING_ACTION_ROWS = ChildRows(
    PendingAction,
    "action",
    _ACTION_FIELDS,
    stamped_when_inserted=("first_seen",),
    stamped_when_seen=("last_seen",),
)


def _write_parameters(by_resource, facts, now) -> set[int]:
    wanted = {}
    for fact in facts:
        instance = by_resource[fact.resource_id]
        for param in fact.parameters:
            values = {
                name: getattr(param, name)
                for name in _PARAMETER_FIELDS
                if name != "normalised_value"
            }
            values["normalised_value"] = normalise_parameter(param.name, param.raw_value)
            wanted[(instance.pk, param.name)] = values
    unread = _unread_parameters(by_resource, facts)
    return write_child_rows(
        PARAMETER_ROWS,
        [row.pk for row in by_resource.values()],
        wanted,
        unread=lambda key: key in unread or (key[0], "*") in unread,
        now=now,
    )


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


def _write_pending_actions(by_resource, facts, now) -> set[int]:
    wanted = {
        (by_resource[fact.resource_id].pk, action.action): {
            name: getattr(action, name) for name in _ACTION_FIELDS
        }
        for fact in facts
        for action in fact.pending_actions
    }
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
    return write_child_rows(
        PENDING_ACTION_ROWS,
        [row.pk for row in by_resource.values()],
        wanted,
        unread=unread.__contains__,
        now=now,
    )


def _write_proxy_targets(account, by_resource, facts) -> set[int]:
    """Link each proxy to its targets; the pks of the proxies whose links changed."""
    proxies = [f for f in facts if f.kind == DBInstance.Kind.PROXY]
    if not proxies:
        return set()
    wanted_ids = {f.resource_id: set(f.proxy_target_resource_ids) for f in proxies}
    all_targets = set().union(*wanted_ids.values())
    # Targets may live anywhere in the account (a proxy can front a cluster in its region).
    target_pks = dict(
        DBInstance.objects.filter(account=account, resource_id__in=all_targets).values_list(
            "resource_id", "pk"
        )
    )
    changed = set()
    for proxy_fact in proxies:
        if _unread(proxy_fact, "targets"):
            continue  # its targets could not be read: the links stay as they were
        proxy = by_resource[proxy_fact.resource_id]
        wanted = {target_pks[r] for r in wanted_ids[proxy_fact.resource_id] if r in target_pks}
        current = set(proxy.proxy_targets.values_list("pk", flat=True))
        if wanted != current:
            proxy.proxy_targets.set(wanted)
            changed.add(proxy.pk)
    return changed
