"""AWS RDS answers (boto3 dicts) → inventory facts. Pure: no calls, no models.

Keys follow docs/reference/aws-rds.md "Calls and the fields that matter". The upsert key is
the ARN (DbiResourceId is only unique within a region). Times become aware UTC.
"""

from __future__ import annotations

from common.timeutil import parse_iso
from inventory.facts import CAFact, PendingActionFact

CERTIFICATE_DETAILS = "api:certificate-details"
CA_ROTATION = "ca-certificate-rotation"
CA_CHANGE = "ca-change"
# RDS Proxy does not report its port; it listens on the engine family's standard one.
PROXY_PORTS = {"MYSQL": 3306}


def tags(resource: dict) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((t["Key"], t.get("Value", "")) for t in resource.get("TagList") or ()))


def is_default_group(name: str) -> bool | None:
    return name.lower().startswith("default.") if name else None


def cas(certificates: list[dict], default_for_new_launches: str) -> tuple[CAFact, ...]:
    return tuple(
        CAFact(
            identifier=cert["CertificateIdentifier"],
            valid_from=parse_iso(cert.get("ValidFrom")),
            valid_till=parse_iso(cert.get("ValidTill")),
            thumbprint=cert.get("Thumbprint", ""),
            key_algorithm=_key_algorithm(cert["CertificateIdentifier"]),
            customer_override=bool(cert.get("CustomerOverride")),
            customer_override_valid_till=parse_iso(cert.get("CustomerOverrideValidTill")),
            default_for_new_launches=cert["CertificateIdentifier"] == default_for_new_launches,
        )
        for cert in certificates
    )


def _key_algorithm(identifier: str) -> str:
    # AWS names its CAs by key: rds-ca-rsa2048-g1, rds-ca-rsa4096-g1, rds-ca-ecc384-g1.
    for token in identifier.split("-"):
        if token.startswith(("rsa", "ecc")) and token[3:].isdigit():
            return f"{token[:3].upper()} {token[3:]}"
    return ""


def pending_actions_by_resource(entries: list[dict]) -> dict[str, tuple[PendingActionFact, ...]]:
    """ca-certificate-rotation actions by resource ARN (other maintenance is not about TLS)."""
    found: dict[str, dict[str, PendingActionFact]] = {}
    for entry in entries:
        for detail in entry.get("PendingMaintenanceActionDetails") or ():
            if detail.get("Action") != CA_ROTATION:
                continue
            actions = found.setdefault(entry["ResourceIdentifier"], {})
            actions.setdefault(
                CA_ROTATION,
                PendingActionFact(
                    action=CA_ROTATION,
                    description=detail.get("Description", ""),
                    auto_applied_after=parse_iso(detail.get("AutoAppliedAfterDate")),
                    forced_apply_date=parse_iso(detail.get("ForcedApplyDate")),
                    current_apply_date=parse_iso(detail.get("CurrentApplyDate")),
                    opt_in_status=detail.get("OptInStatus", ""),
                ),
            )
    return {arn: tuple(actions.values()) for arn, actions in found.items()}


def ca_change(current: str, pending: str) -> PendingActionFact:
    return PendingActionFact(
        action=CA_CHANGE,
        description=f"CA changes from {current or 'none'} to {pending} "
        "in the next maintenance window",
    )


def server_certificate(resource: dict) -> tuple[str, object, str]:
    """(CA of the server certificate, its expiry, source) from CertificateDetails."""
    details = resource.get("CertificateDetails") or {}
    valid_till = parse_iso(details.get("ValidTill"))
    return details.get("CAIdentifier", ""), valid_till, CERTIFICATE_DETAILS if valid_till else ""


def proxy_target_arns(
    targets: list[dict], instance_arns: dict[str, str], cluster_arns: dict[str, str]
) -> tuple[str, ...]:
    """ARNs of what a proxy fronts: TargetArn when given, else looked up by identifier."""
    found = []
    for target in targets:
        arn = target.get("TargetArn") or ""
        if not arn.startswith("arn:"):
            ident = target.get("RdsResourceId") or target.get("TrackedClusterId") or ""
            lookup = cluster_arns if target.get("Type") == "TRACKED_CLUSTER" else instance_arns
            arn = lookup.get(ident, "")
        if arn and arn not in found:
            found.append(arn)
    return tuple(found)


def proxy_iam_auth(proxy: dict) -> bool | None:
    modes = {a.get("IAMAuth") for a in proxy.get("Auth") or ()}
    if not modes:
        return None
    return bool(modes & {"REQUIRED", "ENABLED"})


def endpoint(resource: dict) -> tuple[str, int | None]:
    found = resource.get("Endpoint") or {}
    return found.get("Address", ""), found.get("Port")


def details(**values: object) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, str(v)) for k, v in values.items() if v not in (None, "")))
