"""ApsaraDB RDS for MySQL responses (SDK models) → inventory facts. Pure: no I/O, no models.

docs/design.md "Evidence and precedence": SSL *enabled* (SSLEnabled) and SSL *enforced*
(ForceEncryption) are two facts and are never merged; SSLExpireTime is the server
certificate's expiry, not the CA's; a fact that could not be read is None with its reason in
`lookup_errors`, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from common.engines import enforcement_parameter
from common.normalise import (
    TLS_PARAMETERS,
    normalise_bool,
    normalise_parameter,
    same_parameter_value,
)
from common.timeutil import parse_iso
from inventory.facts import InstanceFact, ParameterFact, PendingActionFact

SSL_SOURCE = "api:apsaradb-ssl"
PARAMETER_SOURCE = "api:apsaradb-parameters"
RENEWAL_ACTION = "ssl-certificate-renewal"
# The same word AWS uses, so one posture rule (config.pending_reboot) reads both clouds.
PENDING = "pending-reboot"
IN_SYNC = "in-sync"
# Options MySQL does not know are written with this prefix in ApsaraDB parameter lists.
LOOSE_PREFIX = "loose_"
# ApsaraDB RDS for MySQL: the MySQL engine's enforcement parameter (common/engines.py).
ENFORCEMENT_PARAMETER = enforcement_parameter("mysql")
# set_by of a parameter the running list does not hold (its default runs).
NOT_LISTED = "not-in-running-parameters"

ROLES = {
    "Primary": "primary",
    "Readonly": "read-only",
    "Guard": "disaster-recovery",
    "Temp": "temporary",
}


@dataclass
class InstanceLookups:
    """The three per-instance answers (SDK response bodies) and why any is missing."""

    attribute: object | None = None  # DescribeDBInstanceAttribute item
    ssl: object | None = None  # DescribeDBInstanceSSL body
    parameters: object | None = None  # DescribeParameters body
    errors: dict[str, str] = field(default_factory=dict)  # "attribute" | "ssl" | "parameters"


def instance_fact(listed, lookups: InstanceLookups) -> InstanceFact:
    """One DescribeDBInstances item plus its lookups → InstanceFact."""
    errors = dict(lookups.errors)
    attribute = lookups.attribute
    values = {
        "kind": "instance",
        "identifier": listed.dbinstance_id,
        "resource_id": listed.dbinstance_id,
        "engine": "mysql",
        "engine_version": _first(attribute, listed, "engine_version"),
        "status": _first(attribute, listed, "dbinstance_status"),
        "role": ROLES.get(listed.dbinstance_type or "", (listed.dbinstance_type or "").lower()),
        "endpoint_host": _first(attribute, listed, "connection_string"),
    }
    if listed.master_instance_id and listed.dbinstance_type != "Primary":
        values["parent_resource_id"] = listed.master_instance_id
    details = {
        "zone": _first(attribute, listed, "zone_id"),
        "category": _first(attribute, listed, "category"),
        "instance_class": _first(attribute, listed, "dbinstance_class"),
        "description": _first(attribute, listed, "dbinstance_description"),
    }
    if attribute is not None:
        values["endpoint_port"] = _port(attribute.port, errors)
        details["kernel_version"] = _text(attribute.current_kernel_version)
        details["latest_kernel_version"] = _text(attribute.latest_kernel_version)
    if lookups.ssl is not None:
        values.update(_ssl_values(lookups.ssl, errors))
    if lookups.parameters is not None:
        parameters, pending = _parameter_facts(lookups.parameters)
        values["parameters"] = parameters
        values["parameter_group"] = _parameter_group(lookups.parameters)
        if parameters:
            values["parameter_apply_status"] = PENDING if pending else IN_SYNC
        details.update({f"pending_{name}": value for name, value in pending.items()})
    values["details"] = tuple(sorted((k, v) for k, v in details.items() if v))
    values["lookup_errors"] = tuple(sorted(errors.items()))
    return InstanceFact(**values)


def _ssl_values(ssl, errors: dict[str, str]) -> dict:
    """SSL facts from DescribeDBInstanceSSL. Its ServerKey (a private key) is never read."""
    # SSLEnabled is Yes/No for MySQL (on/off for PostgreSQL): both normalise to a bool.
    enabled = normalise_bool(_text(ssl.sslenabled) or None)
    if enabled is None:
        errors["ssl_enabled"] = "DescribeDBInstanceSSL did not state SSLEnabled"
    forced = normalise_bool(_text(ssl.force_encryption) or None)
    if forced is None:
        if enabled is False:
            # The API's own rule, not a guess: ForceEncryption can only be switched on while
            # SSL is on, and switching SSL off switches it off. Without SSL nothing is forced,
            # so a missing ForceEncryption on an SSL-off instance means "not forced".
            forced = False
        else:
            # SSL on (or unknown) and no ForceEncryption: minor versions before 20241130
            # cannot force SSL and may omit the key. Unknown stays unknown; the running
            # require_secure_transport parameter may still tell whether transport is enforced.
            errors["ssl_forced"] = "DescribeDBInstanceSSL did not state ForceEncryption"
    values = {
        "ssl_enabled": enabled,
        "ssl_forced": forced,
        "ssl_ca_type": _text(ssl.catype),
        # With SSL off no endpoint is protected, whatever string the API still echoes.
        "ssl_endpoint": "" if enabled is False else _text(ssl.connection_string),
        "server_cert_not_after": None,
        "server_cert_source": "",
    }
    raw_expiry = _text(ssl.sslexpire_time)
    if enabled is not False:  # an SSL-off instance serves no certificate at all
        not_after = parse_iso(raw_expiry)
        if not_after is not None:
            values.update(server_cert_not_after=not_after, server_cert_source=SSL_SOURCE)
        elif raw_expiry:
            errors["server_cert"] = f"SSLExpireTime {raw_expiry[:40]!r} is not a time"
        elif enabled:
            errors["server_cert"] = "DescribeDBInstanceSSL gave no SSLExpireTime"
    if normalise_bool(_text(ssl.require_update) or None):
        reason = _text(ssl.require_update_reason) or "RequireUpdate=Yes"
        values["pending_actions"] = (PendingActionFact(RENEWAL_ACTION, description=reason),)
    return values


def _parameter_facts(body) -> tuple[tuple[ParameterFact, ...], dict[str, str]]:
    """The tracked TLS parameters as running, and the configured values not yet running."""
    running = _parameter_values(body.running_parameters)
    configured = _parameter_values(body.config_parameters)
    facts, pending = [], {}
    for name in TLS_PARAMETERS:
        found = next((n for n in (name, LOOSE_PREFIX + name) if n in running), None)
        if found is None and name == ENFORCEMENT_PARAMETER:
            # A running list read in full that does not hold it: the server runs MySQL's
            # default, OFF (docs/design.md "Evidence and precedence"). No value is stated, so the
            # row says "not stated"; posture applies the engine default and names this source.
            facts.append(ParameterFact(name, None, PARAMETER_SOURCE, set_by=NOT_LISTED))
            continue
        if found is None:
            continue  # not listed: this engine version has no such option
        raw = running[found]
        wanted = configured.get(found, configured.get(name, configured.get(LOOSE_PREFIX + name)))
        apply_status = ""
        if wanted is not None:
            same = same_parameter_value(
                name, normalise_parameter(name, raw), normalise_parameter(name, wanted)
            )
            apply_status = IN_SYNC if same else PENDING
            if not same:
                pending[name] = wanted
        # source_name keeps the spelling found, so an auditor sees `loose_tls_version`.
        facts.append(
            ParameterFact(name, raw, PARAMETER_SOURCE, source_name=found, apply_status=apply_status)
        )
    return tuple(facts), pending


def _parameter_values(section) -> dict[str, str | None]:
    rows = (section.dbinstance_parameter or []) if section is not None else []
    return {row.parameter_name: row.parameter_value for row in rows if row.parameter_name}


def _parameter_group(body) -> str:
    info = body.param_group_info
    if info is None:
        return ""
    return _text(info.parameter_group_name) or _text(info.param_group_id)


def _port(raw, errors: dict[str, str]) -> int | None:
    try:
        port = int(str(raw).strip())
    except (TypeError, ValueError):
        port = 0
    if 0 < port < 65536:
        return port
    errors["endpoint_port"] = f"DescribeDBInstanceAttribute gave no usable Port ({raw!r})"
    return None


def _first(attribute, listed, name: str) -> str:
    """The attribute call's value (the fresher, per-instance answer), else the list's."""
    value = _text(getattr(attribute, name, None)) if attribute is not None else ""
    return value or _text(getattr(listed, name, None))


def _text(value) -> str:
    return "" if value is None else str(value).strip()
