"""TLS parameters of RDS endpoints: group value, else engine default, else documented default.

Each parameter group is read once per sync (parameter-name filter) and each family's engine
defaults once per region, only when a group leaves a TLS parameter without a value. Aurora
MySQL keeps these parameters in the cluster parameter group, RDS MySQL/MariaDB in the
instance parameter group.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from common import engines
from common.normalise import TLS_PARAMETERS
from inventory.facts import ParameterFact

INSTANCE_GROUP = "api:parameter-group"
CLUSTER_GROUP = "api:cluster-parameter-group"
ENGINE_DEFAULT = "api:engine-default"
# set_by when neither the group nor the engine defaults state a value and the documented
# default (docs/reference/aws-rds.md "Defaults and limits") stands in: not an API statement,
# so marked apart.
DOCUMENTED_DEFAULT = "documented-default"
PROVIDER = "aws"  # whose documented defaults (common.engines.MANAGED_DEFAULTS) apply

_FILTER = [{"Name": "parameter-name", "Values": list(TLS_PARAMETERS)}]

log = logging.getLogger(__name__)


def documented_default(family: str, name: str) -> str | None:
    """The enforcement parameter's documented RDS default (common/engines.py) when the API
    states no value at all; None for another parameter or a family without it."""
    value = engines.family_default(PROVIDER, family, name)
    return None if value is None else ("ON" if value else "OFF")


@dataclass(frozen=True)
class ParameterSet:
    facts: tuple[ParameterFact, ...]
    errors: tuple[tuple[str, str], ...]  # what could not be looked up, and why


class ParameterReader:
    """Reads groups and engine defaults through one RDS client, each at most once.

    `describe` turns an SDK exception into user-safe text (errors are recorded per instance,
    as unknown values, rather than failing the region).
    """

    def __init__(self, rds, describe: Callable[[Exception], str], api_errors: tuple):
        self._rds = rds
        self._describe = describe
        self._api_errors = api_errors
        self._groups: dict[tuple[bool, str], dict | str] = {}
        self._defaults: dict[tuple[bool, str], dict | str] = {}
        self._failed: dict[tuple[str, str], str] = {}  # (operation, group or family) → why

    def warnings(self) -> list[str]:
        """One line per group or family whose lookup failed (the region still syncs)."""
        return [
            f"{operation} failed for {name}: {why}; the TLS parameters it states are unknown "
            "(earlier values are kept)"
            for (operation, name), why in self._failed.items()
        ]

    def for_group(
        self, group: str, family: str, *, cluster: bool, apply_status: str
    ) -> ParameterSet:
        listing = self._group(group, cluster)
        if isinstance(listing, str):
            return ParameterSet((), (("parameters", listing),))
        facts, errors = [], []
        for name in TLS_PARAMETERS:
            stated = listing.get(name)
            if stated is not None and "ParameterValue" in stated:
                source = CLUSTER_GROUP if cluster else INSTANCE_GROUP
                facts.append(_fact(name, stated, stated["ParameterValue"], source, group))
                continue
            resolved = self._default(name, stated, family, cluster)
            if isinstance(resolved, str):
                errors.append((name, resolved))
            elif resolved is not None:
                facts.append(resolved)
        return ParameterSet(
            tuple(replace(f, apply_status=apply_status) for f in facts), tuple(errors)
        )

    def _default(self, name, stated, family, cluster) -> ParameterFact | str | None:
        defaults = self._engine_defaults(family, cluster) if family else {}
        if isinstance(defaults, str):
            return f"engine defaults of {family} could not be read: {defaults}"
        default = defaults.get(name)
        described = default or stated or {}
        if default is not None and "ParameterValue" in default:
            return _fact(name, default, default["ParameterValue"], ENGINE_DEFAULT, family)
        documented = documented_default(family, name)
        if documented is not None:
            fact = _fact(name, described, documented, ENGINE_DEFAULT, family)
            return replace(fact, set_by=DOCUMENTED_DEFAULT)
        if described:
            # The parameter exists but nothing states a value: the server's built-in default.
            return _fact(name, described, None, ENGINE_DEFAULT, family)
        return None  # not a parameter of this engine version

    def _group(self, group: str, cluster: bool) -> dict | str:
        key = (cluster, group)
        if key not in self._groups:
            if cluster:
                pages = self._pages(
                    "describe_db_cluster_parameters",
                    group,
                    DBClusterParameterGroupName=group,
                    Filters=_FILTER,
                )
            else:
                pages = self._pages(
                    "describe_db_parameters", group, DBParameterGroupName=group, Filters=_FILTER
                )
            self._groups[key] = _by_name(pages, "Parameters")
        return self._groups[key]

    def _engine_defaults(self, family: str, cluster: bool) -> dict | str:
        key = (cluster, family)
        if key not in self._defaults:
            if cluster:  # AWS does not filter this call: read every page
                pages = self._pages(
                    "describe_engine_default_cluster_parameters",
                    family,
                    DBParameterGroupFamily=family,
                )
            else:
                pages = self._pages(
                    "describe_engine_default_parameters",
                    family,
                    DBParameterGroupFamily=family,
                    Filters=_FILTER,
                )
            self._defaults[key] = _by_name(pages, "EngineDefaults.Parameters")
        return self._defaults[key]

    def _pages(self, operation: str, subject: str, **kwargs) -> list[dict] | str:
        """Every page, or why not (any failure: this lookup never fails the region)."""
        try:
            return list(self._rds.get_paginator(operation).paginate(**kwargs))
        except self._api_errors as exc:
            why = self._describe(exc)
        except Exception as exc:  # not the API's doing: logged as a bug, still not fatal
            log.exception("%s for %s failed unexpectedly", operation, subject)
            why = f"unexpected {type(exc).__name__}: {exc}"[:300]
        self._failed[(_operation_name(operation), subject)] = why
        return why


def _operation_name(method: str) -> str:
    """describe_db_parameters → DescribeDBParameters (how IAM and the API name it)."""
    words = {"db": "DB"}
    return "".join(words.get(word, word.capitalize()) for word in method.split("_"))


def _by_name(pages: list[dict] | str, path: str) -> dict | str:
    if isinstance(pages, str):
        return pages
    found = {}
    for page in pages:
        for key in path.split("."):
            page = page.get(key) or {}
        for parameter in page or ():
            if parameter.get("ParameterName") in TLS_PARAMETERS:
                found[parameter["ParameterName"]] = parameter
    return found


def _fact(name: str, parameter: dict, value, source: str, source_name: str) -> ParameterFact:
    return ParameterFact(
        name=name,
        raw_value=value,
        source=source,
        source_name=source_name,
        set_by=parameter.get("Source", ""),
        apply_type=parameter.get("ApplyType", ""),
        is_modifiable=parameter.get("IsModifiable"),
    )
