"""Amazon RDS, Aurora MySQL and RDS Proxy: the AWS CLI commands for each change.

Parameters live in the instance parameter group (RDS MySQL/MariaDB) or the cluster
parameter group (Aurora); a default group cannot be modified, so the steps create a custom
group, set the value, attach it and reboot (docs/reference/aws-rds.md "Defaults and
limits"). Certificates follow the instance's CA; an RDS Proxy's come from AWS Certificate
Manager and chain to the Amazon Trust Services roots.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from common import engines
from inventory.sources.clouds import AWS as CLOUD
from posture.facts import InstanceFacts
from posture.providers.base import Provider, q

if TYPE_CHECKING:
    from posture.effective import EffectiveFacts

RECOMMENDED_CA = "rds-ca-rsa2048-g1"
_UNSAFE_SHORTHAND = re.compile(r"[,\s\"'=]")
_CLUSTER_PERMISSION = (
    "rds:DescribeDBClusterParameters and rds:DescribeEngineDefaultClusterParameters"
)
_ENGINE_DEFAULTS_PERMISSION = "rds:DescribeEngineDefaultParameters"


def aws(command: str, *arguments: str, region: str) -> str:
    return " ".join(["aws rds", command, *arguments, "--region", q(region)])


def parameter_group_family(engine: str, engine_version: str) -> str:
    """The family for a create-(cluster-)parameter-group command; a placeholder when the
    version does not say."""
    return engines.parameter_group_family(engine, engine_version) or "<family>"


def _shorthand(name: str, value: str, method: str) -> str:
    # Shorthand syntax splits on commas: quote a value that has one.
    shown = f"'{value}'" if _UNSAFE_SHORTHAND.search(value) else value
    return f'"ParameterName={name},ParameterValue={shown},ApplyMethod={method}"'


def _default_group(group: str, is_default: bool | None) -> bool:
    if is_default is not None:
        return is_default
    return group.startswith("default.")


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


def _instances_of(facts: InstanceFacts) -> tuple[str, ...]:
    if facts.kind == "cluster":
        return facts.member_identifiers or ("<each member instance>",)
    return (facts.identifier,)


def _aurora_reboots(facts: InstanceFacts) -> list[str]:
    lines = [
        aws("reboot-db-instance", "--db-instance-identifier", q(m), region=facts.region)
        for m in _instances_of(facts)
    ]
    if facts.kind != "cluster":
        lines.append(f"(and every other instance of cluster {facts.parent_identifier or '?'})")
    return lines


def rotate_ca_commands(facts: InstanceFacts, ca_identifier: str = "") -> list[str]:
    target = ca_identifier or RECOMMENDED_CA
    return [
        aws(
            "modify-db-instance",
            "--db-instance-identifier",
            q(name),
            "--ca-certificate-identifier",
            q(target),
            "--apply-immediately",
            region=facts.region,
        )
        for name in _instances_of(facts)
    ]


class Aws(Provider):
    name = CLOUD.name
    permissions = {
        "parameters": "rds:DescribeDBParameters and rds:DescribeEngineDefaultParameters",
        "cluster": "rds:DescribeDBClusters and rds:DescribeDBClusterParameters",
        "proxy": "rds:DescribeDBProxies",
        # A group left the enforcement parameter unset and its engine defaults were unread.
        **dict.fromkeys(engines.enforcement_parameters(), _ENGINE_DEFAULTS_PERMISSION),
    }
    cluster_permissions = {
        "parameters": _CLUSTER_PERMISSION,
        **dict.fromkeys(engines.enforcement_parameters(), _CLUSTER_PERMISSION),
    }
    retired_cas = frozenset({"rds-ca-2019", "rds-ca-2015", "rds-ca-2010"})
    cli_prefixes = ("aws ",)

    # ---- parameters --------------------------------------------------------------------

    def change_parameters(self, facts: InstanceFacts, values: dict[str, str]) -> str:
        if facts.kind == "proxy":
            return "RDS Proxy has no parameter group; change the target instances or clusters."
        static = [name for name in values if not self.is_dynamic(facts, name)]
        entries = " ".join(
            _shorthand(name, value, "immediate" if name not in static else "pending-reboot")
            for name, value in values.items()
        )
        if engines.is_aurora(facts.engine):
            return self._cluster_change(facts, entries, static)
        return self._instance_change(facts, entries, static)

    def _instance_change(self, facts: InstanceFacts, entries: str, static: list[str]) -> str:
        group = facts.parameter_group or "<parameter-group>"
        region = facts.region
        if _default_group(group, facts.parameter_group_is_default):
            custom = f"{facts.identifier}-tls"
            family = parameter_group_family(facts.engine, facts.engine_version)
            return "\n".join(
                [
                    f"{group} is a default parameter group and cannot be modified: create a "
                    "custom group, set the value there, attach it to the instance and reboot.",
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

    def _cluster_change(self, facts: InstanceFacts, entries: str, static: list[str]) -> str:
        cluster, group, default = _aurora_target(facts)
        region = facts.region
        if default:
            custom = f"{cluster}-tls"
            family = parameter_group_family(facts.engine, facts.engine_version)
            return "\n".join(
                [
                    f"{group} is a default cluster parameter group and cannot be modified: "
                    "create a custom one, set the value there, attach it to the cluster and "
                    "reboot its instances.",
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

    def group_changed(self, facts: InstanceFacts) -> str:
        if facts.kind == "proxy":
            return ""
        if engines.is_aurora(facts.engine):
            _cluster, group, default = _aurora_target(facts)
        else:
            group = facts.parameter_group or "<parameter-group>"
            default = _default_group(group, facts.parameter_group_is_default)
        return "" if default or group.startswith("<") else group

    def restart_reasons(
        self, effective: EffectiveFacts, *, parameters: list[str], certificate: bool
    ) -> list[str]:
        reasons = super().restart_reasons(effective, parameters=parameters, certificate=certificate)
        facts = effective.facts
        if parameters and facts.kind != "proxy" and not self.group_changed(facts):
            reasons.append(
                "a default parameter group cannot be modified: the new custom group is "
                "attached, and takes effect at the reboot"
            )
        if certificate and facts.kind != "proxy":
            reasons.append(
                "modify-db-instance --ca-certificate-identifier restarts the instance, unless "
                "its engine version supports certificate rotation without restart"
            )
        return reasons

    def ca_clients_must_trust(self, effective: EffectiveFacts, *, rotation: str) -> str:
        facts = effective.facts
        if facts.kind == "proxy":
            return ""
        if rotation == "pending" and facts.pending_ca_identifier:
            target = facts.pending_ca_identifier
        elif rotation == "renew" and self._current_ca_is_sound(effective):
            target = facts.ca_identifier
        else:
            target = RECOMMENDED_CA
        if target == facts.ca_identifier and rotation == "renew":
            return ""  # the same CA: clients that trust it now still do
        return f"{target} (in {CLOUD.trust_bundle_url})"

    def managed_tls_note(self, facts: InstanceFacts) -> str | None:
        if facts.kind != "proxy":
            return None
        return (
            "RDS Proxy negotiates TLS with certificates and protocol versions AWS manages; "
            "restrict clients instead (mysql --ssl-mode=VERIFY_IDENTITY "
            "--tls-version=TLSv1.2,TLSv1.3)."
        )

    # ---- transport ---------------------------------------------------------------------

    def _require_tls_on_proxy(self, facts: InstanceFacts) -> str:
        return aws(
            "modify-db-proxy",
            "--db-proxy-name",
            q(facts.identifier),
            "--require-tls",
            region=facts.region,
        )

    def enforce_tls(self, effective: EffectiveFacts) -> str:
        facts = effective.facts
        if facts.kind == "proxy":
            return self._require_tls_on_proxy(facts)
        parameter = effective.enforcement_parameter
        if engines.has_enforcement(facts.engine, facts.engine_version) is False:
            engine = engines.engine_named(facts.engine)
            since = ".".join(map(str, engine.enforcement.since))
            return "\n".join(
                [
                    f"{facts.engine} {facts.engine_version} has no {parameter} "
                    f"({engine.label} has it from {since}). Upgrade, then enforce it:",
                    aws(
                        "modify-db-instance",
                        "--db-instance-identifier",
                        q(facts.identifier),
                        "--engine-version",
                        f"<{engine.enforcement.upgrade_to} or later>",
                        "--allow-major-version-upgrade",
                        "--apply-immediately",
                        region=facts.region,
                    ),
                    "Until then, give every remote account REQUIRE SSL "
                    "(ALTER USER '<user>'@'<host>' REQUIRE SSL;).",
                ]
            )
        return self.change_parameters(facts, self.enforcement_values(effective))

    def enforcement_values(self, effective: EffectiveFacts) -> dict[str, str] | None:
        facts = effective.facts
        if (
            facts.kind == "proxy"
            or engines.has_enforcement(facts.engine, facts.engine_version) is False
        ):
            return None
        # Cluster parameter groups spell booleans ON/OFF, instance groups 1/0.
        value = "ON" if engines.is_aurora(facts.engine) else "1"
        return {effective.enforcement_parameter: value}

    def enable_tls(self, effective: EffectiveFacts) -> str:
        facts = effective.facts
        if facts.kind == "proxy":
            return self._require_tls_on_proxy(facts)
        return "\n".join(
            [
                "Amazon RDS gives every instance a server certificate: check that "
                f"{facts.endpoint_host or 'the endpoint'} is the RDS endpoint and not a plain "
                "TCP forwarder, and that the instance has a CA:",
                *rotate_ca_commands(facts, facts.ca_identifier),
            ]
        )

    # ---- certificates and CAs ----------------------------------------------------------

    def _current_ca_is_sound(self, effective: EffectiveFacts) -> bool:
        facts = effective.facts
        if not facts.ca_identifier or facts.ca_identifier.lower() in self.retired_cas:
            return False
        return (
            facts.ca is not None
            and facts.ca.valid_till is not None
            and (facts.ca.valid_till > effective.now)
        )

    def renew_certificate(self, effective: EffectiveFacts) -> str:
        facts = effective.facts
        if facts.kind == "proxy":
            return (
                "RDS Proxy certificates come from AWS Certificate Manager and renew on their "
                "own; clients need the Amazon Root CA in their trust bundle."
            )
        ca = facts.ca_identifier if self._current_ca_is_sound(effective) else RECOMMENDED_CA
        return "\n".join(
            [
                "Issue a new server certificate by (re)applying the instance CA:",
                *rotate_ca_commands(facts, ca),
            ]
        )

    def rotate_ca(self, effective: EffectiveFacts) -> str:
        if effective.facts.kind == "proxy":
            return self.renew_certificate(effective)
        return "\n".join(rotate_ca_commands(effective.facts, RECOMMENDED_CA))

    def apply_pending_rotation(self, effective: EffectiveFacts, evidence: dict) -> str:
        facts = effective.facts
        lines = []
        if any(a.get("action") == "ca-certificate-rotation" for a in evidence.get("actions", [])):
            lines.append(
                aws(
                    "apply-pending-maintenance-action",
                    "--resource-identifier",
                    q(facts.resource_id or "<arn>"),
                    "--apply-action",
                    "ca-certificate-rotation",
                    "--opt-in-type",
                    "immediate",
                    region=facts.region,
                )
            )
        pending = evidence.get("pending_ca_identifier")
        if pending or not lines:
            lines.extend(rotate_ca_commands(facts, pending or RECOMMENDED_CA))
        return "\n".join(lines)

    def fix_hostname(self, effective: EffectiveFacts) -> str:
        host = effective.facts.endpoint_host
        return (
            f"The certificate names the provider endpoint: connect to {host} and verify that "
            f"name (mysql --ssl-mode=VERIFY_IDENTITY --host {host}); a CNAME or IP address of "
            "your own does not match it."
        )

    def trust_bundle_hint(self, effective: EffectiveFacts, bundle: str) -> str:
        facts = effective.facts
        roots = CLOUD.proxy_roots
        if facts.kind == "proxy":
            return (
                "RDS Proxy presents an AWS Certificate Manager certificate, which chains to the "
                f"{roots.issuer} roots (Amazon Root CA 1–4), not to the RDS CAs: verify it "
                f"against them — the proxy_ca_bundle of account {facts.account}, or "
                f"{roots.setting} (`manage.py fetch_ca_bundle aws` installs it) — in place of "
                f"{bundle}."
            )
        return (
            f"Verify against the RDS trust store {CLOUD.trust_bundle_url} (or its regional "
            f"bundle): set it as ca_bundle of account {facts.account} in place of {bundle}."
        )

    def tracks_ca(self, facts: InstanceFacts) -> bool:
        # DB instances (members included) name their CA; clusters and proxies do not.
        return facts.kind == "instance"

    # ---- the server --------------------------------------------------------------------

    def reboot(self, effective: EffectiveFacts) -> str:
        facts = effective.facts
        return "\n".join(
            aws("reboot-db-instance", "--db-instance-identifier", q(name), region=facts.region)
            for name in _instances_of(facts)
        )

    def replication_note(self, effective: EffectiveFacts, *, new_syntax: bool) -> str | None:
        procedure = (
            "mysql.rds_set_external_source" if new_syntax else "mysql.rds_set_external_master"
        )
        return (
            "On Amazon RDS these statements are not allowed; re-point external replication "
            "with SSL instead: CALL mysql.rds_stop_replication; CALL "
            f"{procedure}('<source-host>', <port>, '<replication-user>', '<password>', "
            "'<binlog-file>', <binlog-position>, 1); CALL mysql.rds_start_replication;"
        )


PROVIDER = Aws()
