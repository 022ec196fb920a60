"""Rows that belong to an endpoint (its TLS parameters, its pending actions), written the one
way: insert what is new, update what differs, delete what is gone — except what a failed
lookup could not see, which stays as it was (docs/design.md "Evidence and precedence").

What counts as changed is settled here for every kind of child row: an endpoint whose
child rows were inserted, updated or deleted. The region writer counts an endpoint once,
however many of its rows changed, and not at all when the endpoint itself is new (its rows
are part of "new").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Model

BATCH_SIZE = 500

Key = tuple[int, str]  # (instance pk, the row's name within its instance)


@dataclass(frozen=True)
class ChildRows:
    model: type[Model]
    key: str  # the field that names a row within its instance: "name", "action"
    fields: tuple[str, ...]  # copied from the facts and compared
    stamped_when_changed: tuple[str, ...] = ()  # set to now on insert and on any change
    stamped_when_inserted: tuple[str, ...] = ()  # set to now on insert
    stamped_when_seen: tuple[str, ...] = ()  # set to now on every write that lists the row


def write_child_rows(
    spec: ChildRows,
    instance_pks: list[int],
    wanted: dict[Key, dict],
    *,
    unread: Callable[[Key], bool],
    now: datetime,
) -> set[int]:
    """Make `spec.model`'s rows of `instance_pks` hold `wanted` ({key: field values}).
    A row not wanted stays when `unread(key)`: its lookup failed, so it is unknown, not gone.
    Returns the pks of the instances whose rows were inserted, updated or deleted."""
    rows = {
        (row.instance_id, getattr(row, spec.key)): row
        for row in spec.model.objects.filter(instance__in=instance_pks)
    }
    to_create, to_update, changed = [], [], set()
    for key, values in wanted.items():
        row = rows.get(key)
        if row is None:
            stamps = dict.fromkeys(
                (*spec.stamped_when_changed, *spec.stamped_when_inserted, *spec.stamped_when_seen),
                now,
            )
            to_create.append(
                spec.model(instance_id=key[0], **{spec.key: key[1]}, **values, **stamps)
            )
            changed.add(key[0])
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            for name in spec.stamped_when_changed:
                setattr(row, name, now)
            to_update.append(row)
            changed.add(key[0])
    gone = [row for key, row in rows.items() if key not in wanted and not unread(key)]
    changed.update(row.instance_id for row in gone)
    spec.model.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    spec.model.objects.bulk_update(
        to_update, [*spec.fields, *spec.stamped_when_changed], batch_size=BATCH_SIZE
    )
    if spec.stamped_when_seen:
        seen = [row.pk for key, row in rows.items() if key in wanted]
        for start in range(0, len(seen), BATCH_SIZE):
            spec.model.objects.filter(pk__in=seen[start : start + BATCH_SIZE]).update(
                **dict.fromkeys(spec.stamped_when_seen, now)
            )
    spec.model.objects.filter(pk__in=[row.pk for row in gone]).delete()
    return changed
