"""Records kept as code (`[[account]]`, `[[checker]]` tables in a TOML file).

Both kinds are validated the same way — no secrets, no unknown keys, typed values — and
upserted the same way: keyed by name, and the file is the truth (a key left out goes back
to its default).
"""

from __future__ import annotations

from dataclasses import dataclass

from common.credential_names import credential_name_problem


class EntryError(ValueError):
    """An entry is invalid; the message names the table, the entry and the key."""


@dataclass(frozen=True)
class EntrySchema:
    table: str  # "account", "checker"
    strings: frozenset[str]
    booleans: frozenset[str] = frozenset()
    string_lists: frozenset[str] = frozenset()
    integers: frozenset[str] = frozenset()
    secret_keys: frozenset[str] = frozenset()
    instead_of_secrets: str = ""  # what to write instead of a secret

    @property
    def keys(self) -> frozenset[str]:
        return self.strings | self.booleans | self.string_lists | self.integers

    @property
    def credential_names(self) -> frozenset[str]:
        """Keys that name a credential variable (`*_env`), confined by one rule."""
        return frozenset(k for k in self.strings if k.endswith("_env"))


def check_entry(schema: EntrySchema, index: int, entry: object) -> str:
    """Validate the shape of one entry; returns how to name it in later error messages."""
    where = f"[[{schema.table}]] #{index + 1}"
    if not isinstance(entry, dict):
        raise EntryError(f"{where}: must be a table")
    secrets = sorted(schema.secret_keys & entry.keys())
    if secrets:
        raise EntryError(
            f"{where}: {', '.join(secrets)} would put a secret in the file; "
            + schema.instead_of_secrets
        )
    unknown = sorted(set(entry) - schema.keys)
    if unknown:
        raise EntryError(f"{where}: unknown key(s) {', '.join(unknown)}")
    for key, value in entry.items():
        if key in schema.strings and not isinstance(value, str):
            raise EntryError(f"{where}: {key} must be a string")
        if key in schema.booleans and not isinstance(value, bool):
            raise EntryError(f"{where}: {key} must be true or false")
        if key in schema.integers and (isinstance(value, bool) or not isinstance(value, int)):
            raise EntryError(f"{where}: {key} must be a number")
        if key in schema.string_lists and not (
            isinstance(value, list) and all(isinstance(v, str) and v for v in value)
        ):
            raise EntryError(f"{where}: {key} must be a list of names")
    for key in sorted(schema.credential_names & entry.keys()):
        problem = entry[key] and credential_name_problem(entry[key])
        if problem:
            raise EntryError(f"{where}: {key}: {problem}")
    return where


def upsert_by_name(model, table: str, entries: list[dict], keys, fixup=None) -> dict:
    """Create or update `model` rows keyed by `name`; returns the names by outcome.

    `entries` are validated dicts with a "name"; `keys` the fields the file controls.
    `fixup(desired)` may adjust values derived from others before comparing.
    """
    names = [e["name"] for e in entries]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise EntryError(f"{table} name(s) given twice: {', '.join(twice)}")
    defaults = {f.name: f.get_default() for f in model._meta.concrete_fields if f.name in keys}
    result = {"created": [], "updated": [], "unchanged": []}
    existing = {row.name: row for row in model.objects.filter(name__in=names)}
    for entry in entries:
        desired = {key: entry.get(key, defaults[key]) for key in keys}
        if fixup:
            fixup(desired)
        row = existing.get(entry["name"])
        if row is None:
            model.objects.create(name=entry["name"], **desired)
            result["created"].append(entry["name"])
            continue
        changed = [k for k, v in desired.items() if getattr(row, k) != v]
        for key in changed:
            setattr(row, key, desired[key])
        if changed:
            row.save()
        result["updated" if changed else "unchanged"].append(entry["name"])
    return result
