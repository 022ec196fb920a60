"""How to change a TLS parameter on a given endpoint: the exact commands, from its facts.

Pure. AWS: the instance parameter group (RDS MySQL/MariaDB) or the cluster parameter group
(Aurora); a default group cannot be modified, so the steps create a custom group, set the
value, attach it and reboot. Alibaba: ModifyParameter, with the console path.
"""

from __future__ import annotations

import json
import re
import shlex

from common import engines
from posture.facts import InstanceFacts

# RDS applies these without a reboot; anything else is treated as static (pending-reboot).
_DYNAMIC_ON_AWS = {"require_secure_transport"}
_UNSAFE_SHORTHAND = re.compile(r"[,\s\"'=]")


def q(value: str) -> str:
    return shlex.quote(value)


def aws(command: str, *arguments: str, region: str) -> str:
    return " ".join(["aws rds", command, *arguments, "--region", q(region)])


def aliyun(action: str, *arguments: str, region: str) -> str:
    return " ".join(["aliyun rds", action, "--region", q(region), *arguments])


def aliyun_console(facts: InstanceFacts, *path: str) -> str:
    steps = ["ApsaraDB RDS console", f"Instances ({facts.region})", facts.identifier, *path]
    return "Console: " + " → ".join(steps)


def parameter_group_family(engine: str, engine_version: str) -> str:
    """The family for a create-db-parameter-group command; a placeholder when unknown."""
    return engines.parameter_group_family(engine, engine_version) or "<family>"


def _is_dynamic(facts: InstanceFacts, name: str) -> bool:
    parameter = facts.parameter(name)
    if parameter and parameter.apply_type:
        return parameter.apply_type.lower() == "dynamic"
    return name in _DYNAMIC_ON_AWS


def _shorthand(name: str, value: str, method: str) -> str:
    # Shorthand syntax splits on commas: quote a value that has one.
    shown = f"'{value}'" if _UNSAFE_SHORTHAND.search(value) else value
    return f'"ParameterName={name},ParameterValue={shown},ApplyMethod={method}"'


def _aurora_target(facts: InstanceFacts) -> tuple[str, str, bool]:
    """(cluster identifier, cluster parameter group, group is a default one)."""
    if facts.kind == "cluster":
        cluster, group, default = (
            facts.identifier,
            facts.parameter_group,
            facts.parameter_group_is_default,
        )
    else:
        cluster, group, default = (
            facts.parent_identifier or "<cluster>",
            facts.parent_parameter_group,
            facts.parent_parameter_group_is_default,
        )
    for parameter in facts.parameters:
        if parameter.source == "api:cluster-parameter-group" and parameter.source_name:
            group = group or parameter.source_name
    return cluster, group or "<cluster-parameter-group>", _default_group(group, default)


def _default_group(group: str, is_default: bool | None) -> bool:
    if is_default is not None:
        return is_default
    return group.startswith("default.")


def _aurora_reboots(facts: InstanceFacts) -> list[str]:
    if facts.kind == "cluster":
        members = facts.member_identifiers or ("<each member instance>",)
    else:
        members = (facts.identifier,)
    lines = [
        aws("reboot-db-instance", "--db-instance-identifier", q(m), region=facts.region)
        for m in members
    ]
    if facts.kind != "cluster":
        lines.append(f"(and every other instance of cluster {facts.parent_identifier or '?'})")
    return lines


def parameter_change(facts: InstanceFacts, values: dict[str, str]) -> str:
    """The commands that set `values` ({parameter: value}) on this endpoint."""
    if facts.provider == "aliyun":
        return _aliyun_parameter_change(facts, values)
    if facts.kind == "proxy":
        return "RDS Proxy has no parameter group; change the target instances or clusters."
    static = [name for name in values if not _is_dynamic(facts, name)]
    entries = " ".join(
        _shorthand(name, value, "immediate" if name not in static else "pending-reboot")
        for name, value in values.items()
    )
    if engines.is_aurora(facts.engine):
        return _aurora_change(facts, entries, static)
    group = facts.parameter_group or "<parameter-group>"
    region = facts.region
    if _default_group(group, facts.parameter_group_is_default):
        custom = f"{facts.identifier}-tls"
        family = parameter_group_family(facts.engine, facts.engine_version)
        return "\n".join(
            [
                f"{group} is a default parameter group and cannot be modified: create a custom "
                "group, set the value there, attach it to the instance and reboot.",
                aws(
                    "create-db-parameter-group",
                    "--db-parameter-group-name",
                    q(custom),
                    "--db-parameter-group-family",
                    q(family),
                    "--description",
                    q(f"TLS settings for {facts.identifier}"),
                    region=region,
                ),
                aws(
                    "modify-db-parameter-group",
                    "--db-parameter-group-name",
                    q(custom),
                    "--parameters",
                    entries,
                    region=region,
                ),
                aws(
                    "modify-db-instance",
                    "--db-instance-identifier",
                    q(facts.identifier),
                    "--db-parameter-group-name",
                    q(custom),
                    "--apply-immediately",
                    region=region,
                ),
                aws(
                    "reboot-db-instance",
                    "--db-instance-identifier",
                    q(facts.identifier),
                    region=region,
                ),
            ]
        )
    lines = [
        aws(
            "modify-db-parameter-group",
            "--db-parameter-group-name",
            q(group),
            "--parameters",
            entries,
            region=region,
        )
    ]
    if static:
        lines.append(f"{', '.join(static)} is static: it applies at the next reboot.")
        lines.append(
            aws(
                "reboot-db-instance",
                "--db-instance-identifier",
                q(facts.identifier),
                region=region,
            )
        )
    return "\n".join(lines)


def _aurora_change(facts: InstanceFacts, entries: str, static: list[str]) -> str:
    cluster, group, default = _aurora_target(facts)
    region = facts.region
    if default:
        custom = f"{cluster}-tls"
        family = parameter_group_family(facts.engine, facts.engine_version)
        return "\n".join(
            [
                f"{group} is a default cluster parameter group and cannot be modified: create "
                "a custom one, set the value there, attach it to the cluster and reboot its "
                "instances.",
                aws(
                    "create-db-cluster-parameter-group",
                    "--db-cluster-parameter-group-name",
                    q(custom),
                    "--db-parameter-group-family",
                    q(family),
                    "--description",
                    q(f"TLS settings for {cluster}"),
                    region=region,
                ),
                aws(
                    "modify-db-cluster-parameter-group",
                    "--db-cluster-parameter-group-name",
                    q(custom),
                    "--parameters",
                    entries,
                    region=region,
                ),
                aws(
                    "modify-db-cluster",
                    "--db-cluster-identifier",
                    q(cluster),
                    "--db-cluster-parameter-group-name",
                    q(custom),
                    "--apply-immediately",
                    region=region,
                ),
                *_aurora_reboots(facts),
            ]
        )
    lines = [
        aws(
            "modify-db-cluster-parameter-group",
            "--db-cluster-parameter-group-name",
            q(group),
            "--parameters",
            entries,
            region=region,
        )
    ]
    if static:
        lines.append(f"{', '.join(static)} is static: it applies when the instances reboot.")
        lines.extend(_aurora_reboots(facts))
    return "\n".join(lines)


def _aliyun_parameter_change(facts: InstanceFacts, values: dict[str, str]) -> str:
    restart = any(not _is_dynamic(facts, name) for name in values)
    arguments = [
        "--DBInstanceId",
        q(facts.identifier),
        "--Parameters",
        q(json.dumps(values, separators=(",", ":"))),
    ]
    if restart:
        arguments += ["--Forcerestart", "true"]
    settings = ", ".join(f"{name} = {value}" for name, value in values.items())
    return "\n".join(
        [
            aliyun("ModifyParameter", *arguments, region=facts.region),
            aliyun_console(facts, "Parameters", "Modifiable Parameters", settings)
            + (" (the instance restarts)" if restart else ""),
        ]
    )
