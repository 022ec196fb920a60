"""Alibaba Cloud ApsaraDB RDS for MySQL: `aliyun rds` commands with their console paths.

ApsaraDB has a switch of its own besides the parameters: SSL *enabled* (SSLEnabled) and SSL
*forced* (ForceEncryption), two facts never merged (docs/design.md "Evidence and
precedence", docs/reference/alibaba-rds.md "Behaviour"). SSL protects one connection string;
a cloud certificate lasts a year and is renewed with ModifyDBInstanceSSL.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from inventory.sources.clouds import ALIYUN as CLOUD
from posture.fact import APSARADB_SSL, Fact, unknown
from posture.facts import InstanceFacts
from posture.providers.base import Provider, q

if TYPE_CHECKING:
    from posture.effective import EffectiveFacts


def aliyun(action: str, *arguments: str, region: str) -> str:
    return " ".join(["aliyun rds", action, "--region", q(region), *arguments])


def console(facts: InstanceFacts, *path: str) -> str:
    steps = ["ApsaraDB RDS console", f"Instances ({facts.region})", facts.identifier, *path]
    return "Console: " + " → ".join(steps)


def modify_ssl(facts: InstanceFacts, *arguments: str, host: str = "") -> str:
    """`aliyun rds ModifyDBInstanceSSL` for the one connection string SSL protects."""
    host = host or facts.ssl_endpoint or facts.endpoint_host or "<connection-string>"
    return aliyun(
        "ModifyDBInstanceSSL",
        "--DBInstanceId",
        q(facts.identifier),
        "--ConnectionString",
        q(host),
        "--SSLEnabled",
        "1",
        *arguments,
        region=facts.region,
    )


def _cloud_certificate(facts: InstanceFacts, step: str, restarts: str) -> str:
    """SSL on with a new cloud certificate (a year's validity), and the console step."""
    return "\n".join(
        [
            modify_ssl(facts, "--CAType", "aliyun"),
            console(facts, "Data Security", "SSL", step) + f" ({restarts})",
        ]
    )


def force_encryption(effective: EffectiveFacts) -> Fact:
    """ForceEncryption as DescribeDBInstanceSSL stated it."""
    facts = effective.facts
    if facts.ssl_forced is None:
        return unknown(facts.lookup_error("ssl") or "ForceEncryption not reported")
    return Fact(facts.ssl_forced, facts.ssl_forced, APSARADB_SSL, facts.synced_at)


class Aliyun(Provider):
    name = CLOUD.name
    permissions = {
        "parameters": "rds:DescribeParameters",
        "ssl": "rds:DescribeDBInstanceSSL",
    }
    cli_prefixes = ("aliyun ",)

    # ---- parameters --------------------------------------------------------------------

    def change_parameters(self, facts: InstanceFacts, values: dict[str, str]) -> str:
        restart = any(not self.is_dynamic(facts, name) for name in values)
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
                console(facts, "Parameters", "Modifiable Parameters", settings)
                + (" (the instance restarts)" if restart else ""),
            ]
        )

    def restart_reasons(
        self, effective: EffectiveFacts, *, parameters: list[str], certificate: bool
    ) -> list[str]:
        reasons = super().restart_reasons(effective, parameters=parameters, certificate=certificate)
        if reasons:
            reasons[-1] += " (ModifyParameter --Forcerestart true restarts the instance)"
        if certificate:
            reasons.append("a new cloud certificate restarts MySQL 5.6/5.7 (8.0 does not)")
        return reasons

    def ca_clients_must_trust(self, effective: EffectiveFacts, *, rotation: str) -> str:
        return "the instance's new CA certificate: " + console(
            effective.facts, "Data Security", "SSL", "Download CA Certificate"
        )

    # ---- transport ---------------------------------------------------------------------

    def enforce_tls(self, effective: EffectiveFacts) -> str:
        facts = effective.facts
        parameter = effective.enforcement_parameter
        return "\n".join(
            [
                modify_ssl(facts, "--ForceEncryption", "1"),
                console(facts, "Data Security", "SSL", "Force encryption: on"),
                "Forced SSL needs minor version 20241130 or later; on older versions set "
                f"{parameter} instead (an alternative: commented out, not a second step):",
                *(
                    f"# {line}"
                    for line in self.change_parameters(facts, {parameter: "ON"}).splitlines()
                ),
            ]
        )

    def enable_tls(self, effective: EffectiveFacts) -> str:
        return _cloud_certificate(effective.facts, "Configure SSL", "the instance restarts")

    def transport_enforced(self, effective: EffectiveFacts, variable: Fact) -> Fact:
        """ForceEncryption OR the running variable. SSLEnabled is not enforcement, but
        without SSL nothing can be enforced."""
        facts = effective.facts
        if facts.ssl_enabled is False:
            return Fact(False, {"SSLEnabled": False}, APSARADB_SSL, facts.synced_at)
        forced = force_encryption(effective)
        if forced.value is True:
            return forced
        if variable.value is True:
            return variable
        if forced.value is False and variable.value is False:
            # Not forced, and the server does not require it either: both sources named.
            return Fact(
                value=False,
                raw={
                    "force_encryption": forced.evidence(),
                    effective.enforcement_parameter: variable.evidence(),
                },
                source=f"{APSARADB_SSL}+{variable.source}",
                at=variable.at or forced.at,
                stale=variable.stale,
            )
        return unknown(forced.reason if not forced.known else variable.reason)

    def tls_evidence(self, effective: EffectiveFacts) -> dict:
        return {"ssl_enabled": effective.facts.ssl_enabled}

    def enforcement_evidence(self, effective: EffectiveFacts) -> dict:
        return {
            "force_encryption": force_encryption(effective).evidence(),
            "ssl_enabled": effective.facts.ssl_enabled,
        }

    # ---- certificates ------------------------------------------------------------------

    def renew_certificate(self, effective: EffectiveFacts) -> str:
        return _cloud_certificate(
            effective.facts, "Update Validity Period", "MySQL 5.6/5.7 restart; 8.0 does not"
        )

    def rotate_ca(self, effective: EffectiveFacts) -> str:
        return self.renew_certificate(effective)

    def apply_pending_rotation(self, effective: EffectiveFacts, evidence: dict) -> str:
        return self.renew_certificate(effective)

    def fix_hostname(self, effective: EffectiveFacts) -> str:
        facts = effective.facts
        wanted = facts.endpoint_host or "<connection-string>"
        return "\n".join(
            [
                f"ApsaraDB protects one connection string with SSL ({facts.ssl_endpoint or '?'}); "
                f"move the certificate to the endpoint clients use ({wanted}):",
                modify_ssl(facts, host=wanted),
            ]
        )

    def trust_bundle_hint(self, effective: EffectiveFacts, bundle: str) -> str:
        return (
            console(effective.facts, "Data Security", "SSL", "Download CA Certificate")
            + f"; add it to {bundle} (the account's ca_bundle)."
        )

    # ---- the server --------------------------------------------------------------------

    def reboot(self, effective: EffectiveFacts) -> str:
        facts = effective.facts
        return "\n".join(
            [
                aliyun(
                    "RestartDBInstance", "--DBInstanceId", q(facts.identifier), region=facts.region
                ),
                console(facts, "Restart Instance"),
            ]
        )


PROVIDER = Aliyun()
