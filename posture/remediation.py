"""The remediation of each finding: the exact command or statement for this provider and engine.

Pure. Identifiers come from the facts; what cannot be known is an <angle-bracket> placeholder.
No secret is ever part of a remediation (passwords stay placeholders).
"""

from __future__ import annotations

from collections.abc import Callable

from common import engines
from common.normalise import TLS_VERSIONS, lowest_tls_version
from posture.catalogue import DEPRECATED_CAS
from posture.changes import aliyun, aliyun_console, aws, parameter_change, q
from posture.ciphers import weakening_tokens
from posture.effective import View

RECOMMENDED_CA = "rds-ca-rsa2048-g1"
AWS_TRUST_BUNDLE = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
# AEAD suites with forward secrecy only: what the A+ rule asks for.
STRONG_TLS12_SUITES = ":".join(
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    ]
)
# MariaDB's ssl_cipher also names the TLS 1.3 suites (reference/mysql-tls.md).
TLS13_SUITES = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
_MAX_LISTED = 20


def sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _target_tls_versions(view: View) -> str:
    return "TLSv1.2" if view.supports_tls13 is False else "TLSv1.2,TLSv1.3"


def _proxy_note() -> str:
    return (
        "RDS Proxy negotiates TLS with certificates and protocol versions AWS manages; "
        "restrict clients instead (mysql --ssl-mode=VERIFY_IDENTITY --tls-version=TLSv1.2,TLSv1.3)."
    )


def modify_ssl(facts, *arguments: str, host: str = "") -> str:
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


# ---- transport -------------------------------------------------------------------------


def enforce_transport(view: View, _evidence: dict) -> str:
    facts = view.facts
    if facts.kind == "proxy":
        return require_tls_on_proxy(view, _evidence)
    if facts.provider == "aliyun":
        return "\n".join(
            [
                modify_ssl(facts, "--ForceEncryption", "1"),
                aliyun_console(facts, "Data Security", "SSL", "Force encryption: on"),
                "Forced SSL needs minor version 20241130 or later; on older versions set "
                "require_secure_transport instead:",
                parameter_change(facts, {"require_secure_transport": "ON"}),
            ]
        )
    if engines.has_enforcement(facts.engine, facts.engine_version) is False:
        return "\n".join(
            [
                f"{facts.engine} {facts.engine_version} has no require_secure_transport (MariaDB "
                "has it from 10.5.2). Upgrade, then enforce it:",
                aws(
                    "modify-db-instance",
                    "--db-instance-identifier",
                    q(facts.identifier),
                    "--engine-version",
                    "<10.6 or later>",
                    "--allow-major-version-upgrade",
                    "--apply-immediately",
                    region=facts.region,
                ),
                "Until then, give every remote account REQUIRE SSL "
                "(ALTER USER '<user>'@'<host>' REQUIRE SSL;).",
            ]
        )
    value = "ON" if engines.is_aurora(facts.engine) else "1"
    return parameter_change(facts, {"require_secure_transport": value})


def require_ssl_per_account(view: View, evidence: dict) -> str:
    accounts = evidence.get("accounts", [])
    lines = [
        f"ALTER USER {sql_string(a['user'])}@{sql_string(a['host'])} REQUIRE SSL;"
        for a in accounts[:_MAX_LISTED]
    ]
    if len(accounts) > _MAX_LISTED:
        lines.append(f"-- and {len(accounts) - _MAX_LISTED} more accounts the same way")
    lines.append("Enforcing TLS for every connection covers all accounts at once:")
    lines.append(enforce_transport(view, evidence))
    return "\n".join(lines)


def require_tls_on_proxy(view: View, _evidence: dict) -> str:
    return aws(
        "modify-db-proxy",
        "--db-proxy-name",
        q(view.facts.identifier),
        "--require-tls",
        region=view.facts.region,
    )


def enable_tls(view: View, _evidence: dict) -> str:
    facts = view.facts
    if facts.provider == "aliyun":
        return "\n".join(
            [
                modify_ssl(facts, "--CAType", "aliyun"),
                aliyun_console(facts, "Data Security", "SSL", "Configure SSL")
                + " (the instance restarts)",
            ]
        )
    if facts.kind == "proxy":
        return require_tls_on_proxy(view, _evidence)
    return "\n".join(
        [
            "Amazon RDS gives every instance a server certificate: check that "
            f"{facts.endpoint_host or 'the endpoint'} is the RDS endpoint and not a plain TCP "
            "forwarder, and that the instance has a CA:",
            *rotate_ca_commands(view, facts.ca_identifier),
        ]
    )


# ---- protocols and ciphers --------------------------------------------------------------


def restrict_tls_versions(view: View, _evidence: dict) -> str:
    if view.facts.kind == "proxy":
        return _proxy_note()
    return parameter_change(view.facts, {"tls_version": _target_tls_versions(view)})


def strong_ciphers(view: View, _evidence: dict) -> str:
    if view.facts.kind == "proxy":
        return _proxy_note()
    suites = STRONG_TLS12_SUITES
    if view.uses_mariadb and view.supports_tls13 is not False:
        suites = f"{suites}:{TLS13_SUITES}"
    return parameter_change(view.facts, {"ssl_cipher": suites})


# ---- certificates and CAs -----------------------------------------------------------------


def _instances_of(view: View) -> tuple[str, ...]:
    facts = view.facts
    if facts.kind == "cluster":
        return facts.member_identifiers or ("<each member instance>",)
    return (facts.identifier,)


def rotate_ca_commands(view: View, ca_identifier: str = "") -> list[str]:
    target = ca_identifier or RECOMMENDED_CA
    return [
        aws(
            "modify-db-instance",
            "--db-instance-identifier",
            q(name),
            "--ca-certificate-identifier",
            q(target),
            "--apply-immediately",
            region=view.facts.region,
        )
        for name in _instances_of(view)
    ]


def _aliyun_renew(view: View) -> str:
    facts = view.facts
    return "\n".join(
        [
            modify_ssl(facts, "--CAType", "aliyun"),
            aliyun_console(facts, "Data Security", "SSL", "Update Validity Period")
            + " (MySQL 5.6/5.7 restart; 8.0 does not)",
        ]
    )


def _current_ca_is_sound(view: View) -> bool:
    facts = view.facts
    if not facts.ca_identifier or facts.ca_identifier.lower() in DEPRECATED_CAS:
        return False
    return (
        facts.ca is not None
        and facts.ca.valid_till is not None
        and (facts.ca.valid_till > view.now)
    )


def new_server_certificate(view: View, _evidence: dict) -> str:
    facts = view.facts
    if facts.provider == "aliyun":
        return _aliyun_renew(view)
    if facts.kind == "proxy":
        return (
            "RDS Proxy certificates come from AWS Certificate Manager and renew on their own; "
            "clients need the Amazon Root CA in their trust bundle."
        )
    ca = facts.ca_identifier if _current_ca_is_sound(view) else RECOMMENDED_CA
    return "\n".join(
        [
            "Issue a new server certificate by (re)applying the instance CA:",
            *rotate_ca_commands(view, ca),
        ]
    )


def fix_hostname(view: View, _evidence: dict) -> str:
    facts = view.facts
    if facts.provider == "aliyun":
        wanted = facts.endpoint_host or "<connection-string>"
        return "\n".join(
            [
                f"ApsaraDB protects one connection string with SSL ({facts.ssl_endpoint or '?'}); "
                f"move the certificate to the endpoint clients use ({wanted}):",
                modify_ssl(facts, host=wanted),
            ]
        )
    return (
        f"The certificate names the provider endpoint: connect to {facts.endpoint_host} and "
        f"verify that name (mysql --ssl-mode=VERIFY_IDENTITY --host {facts.endpoint_host}); a "
        "CNAME or IP address of your own does not match it."
    )


def trust_bundle(view: View, evidence: dict) -> str:
    facts = view.facts
    bundle = evidence.get("trust_bundle") or "the configured bundle"
    if facts.provider == "aliyun":
        return (
            aliyun_console(facts, "Data Security", "SSL", "Download CA Certificate")
            + f"; add it to {bundle} (the account's ca_bundle)."
        )
    if facts.kind == "proxy":
        return (
            "RDS Proxy presents an AWS Certificate Manager certificate, which chains to the "
            "Amazon Trust Services roots (Amazon Root CA 1–4), not to the RDS CAs: verify it "
            f"against them — the proxy_ca_bundle of account {facts.account}, or "
            "TLSPOSTURE_CA_BUNDLE_AWS_PROXY (`manage.py fetch_ca_bundle aws` installs it) — in "
            f"place of {bundle}."
        )
    return (
        f"Verify against the RDS trust store {AWS_TRUST_BUNDLE} (or its regional bundle): set it "
        f"as ca_bundle of account {facts.account} in place of {bundle}."
    )


def ca_rotation(view: View, _evidence: dict) -> str:
    if view.facts.provider == "aliyun" or view.facts.kind == "proxy":
        return new_server_certificate(view, _evidence)
    return "\n".join(rotate_ca_commands(view, RECOMMENDED_CA))


def apply_pending_rotation(view: View, evidence: dict) -> str:
    facts = view.facts
    if facts.provider == "aliyun":
        return _aliyun_renew(view)
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
        lines.extend(rotate_ca_commands(view, pending or RECOMMENDED_CA))
    return "\n".join(lines)


# ---- replication -------------------------------------------------------------------------


def _mysql_new_syntax(view: View) -> bool:
    version = engines.version_tuple(
        str(view.session.variables.get("version") or "") or view.facts.engine_version
    )
    return not version or version >= (8, 0, 23)


def replication_statements(view: View, evidence: dict) -> str:
    channels = evidence.get("channels", [])
    names = [c.get("name", "") for c in channels] or [""]
    lines = []
    for name in names:
        if view.uses_mariadb:
            conn = f" {sql_string(name)}" if name else ""
            lines.append(
                f"STOP SLAVE{conn}; CHANGE MASTER{conn} TO MASTER_SSL=1, "
                f"MASTER_SSL_VERIFY_SERVER_CERT=1; START SLAVE{conn};"
            )
        elif _mysql_new_syntax(view):
            channel = f" FOR CHANNEL {sql_string(name)}" if name else ""
            lines.append(
                f"STOP REPLICA{channel}; CHANGE REPLICATION SOURCE TO SOURCE_SSL=1, "
                f"SOURCE_SSL_VERIFY_SERVER_CERT=1, SOURCE_TLS_VERSION='TLSv1.2,TLSv1.3'{channel}; "
                f"START REPLICA{channel};"
            )
        else:
            channel = f" FOR CHANNEL {sql_string(name)}" if name else ""
            lines.append(
                f"STOP SLAVE{channel}; CHANGE MASTER TO MASTER_SSL=1, "
                f"MASTER_SSL_VERIFY_SERVER_CERT=1, MASTER_TLS_VERSION='TLSv1.2'{channel}; "
                f"START SLAVE{channel};"
            )
    if view.facts.provider == "aws":
        procedure = (
            "mysql.rds_set_external_master"
            if view.uses_mariadb or not _mysql_new_syntax(view)
            else "mysql.rds_set_external_source"
        )
        lines.append(
            "On Amazon RDS these statements are not allowed; re-point external replication "
            "with SSL instead: CALL mysql.rds_stop_replication; CALL "
            f"{procedure}('<source-host>', <port>, '<replication-user>', '<password>', "
            "'<binlog-file>', <binlog-position>, 1); CALL mysql.rds_start_replication;"
        )
    return "\n".join(lines)


def group_replication_statements(view: View, _evidence: dict) -> str:
    versions = _target_tls_versions(view)
    return (
        "STOP GROUP_REPLICATION; SET PERSIST group_replication_recovery_use_ssl=ON; "
        "SET PERSIST group_replication_recovery_ssl_verify_server_cert=ON; "
        f"SET PERSIST group_replication_recovery_tls_version='{versions}'; START GROUP_REPLICATION;"
    )


# ---- configuration ------------------------------------------------------------------------


def reboot(view: View, _evidence: dict) -> str:
    facts = view.facts
    if facts.provider == "aliyun":
        return "\n".join(
            [
                aliyun(
                    "RestartDBInstance", "--DBInstanceId", q(facts.identifier), region=facts.region
                ),
                aliyun_console(facts, "Restart Instance"),
            ]
        )
    return "\n".join(
        aws("reboot-db-instance", "--db-instance-identifier", q(name), region=facts.region)
        for name in _instances_of(view)
    )


def _floor(versions) -> int:
    lowest = lowest_tls_version(versions)
    return TLS_VERSIONS.index(lowest) if lowest else -1


def _safer(name: str, difference: dict) -> str:
    """Of the API's and the live value, the raw value that is the safer one to keep."""
    api_raw, live_raw = difference["api_raw"], difference["live_raw"]
    api, live = difference["api_value"], difference["live_value"]
    if name == "require_secure_transport":
        return live_raw if live is True and api is not True else api_raw
    if name == "tls_version":
        return live_raw if _floor(live) > _floor(api) else api_raw
    if name == "ssl_cipher":
        return live_raw if len(weakening_tokens(live)) < len(weakening_tokens(api)) else api_raw
    return api_raw


def settle_drift(view: View, evidence: dict) -> str:
    differences = evidence.get("differences", [])
    wanted = {d["name"]: _safer(d["name"], d) for d in differences}
    shown = "; ".join(
        f"{d['name']}: API {d['api_raw']!r}, live {d['live_raw']!r}" for d in differences
    )
    return "\n".join(
        [
            f"Make the server and the API agree on the safer value ({shown}). If the live value "
            "was set by hand it is lost at the next restart; if the API value never reached the "
            "server, applying it again brings the server back:",
            parameter_change(view.facts, wanted),
        ]
    )


def supply_missing_evidence(view: View, evidence: dict) -> str:
    lines = ["The grade cannot vouch for A or A+ until these facts are known:"]
    lines += [
        f"- {item['fact']} ({item['why']}): {item['supplied_by']}"
        for item in evidence.get("missing", [])
    ]
    return "\n".join(lines)


BUILDERS: dict[str, Callable[[View, dict], str]] = {
    "tls.unavailable": enable_tls,
    "transport.plaintext_login_accepted": enforce_transport,
    "transport.not_enforced": enforce_transport,
    "accounts.without_require_ssl": require_ssl_per_account,
    "protocol.sslv3": restrict_tls_versions,
    "protocol.legacy_tls": restrict_tls_versions,
    "protocol.no_tls13": restrict_tls_versions,
    "cipher.anonymous_or_null": strong_ciphers,
    "cipher.broken": strong_ciphers,
    "cipher.no_forward_secrecy": strong_ciphers,
    "cipher.policy_weakened": strong_ciphers,
    "cert.expired": new_server_certificate,
    "cert.expiring": new_server_certificate,
    "cert.hostname_mismatch": fix_hostname,
    "cert.untrusted": trust_bundle,
    "cert.self_signed": new_server_certificate,
    "cert.weak_key": new_server_certificate,
    "cert.weak_signature": new_server_certificate,
    "ca.expired": ca_rotation,
    "ca.expiring": ca_rotation,
    "ca.deprecated": ca_rotation,
    "ca.rotation_pending": apply_pending_rotation,
    "replication.unencrypted": replication_statements,
    "replication.unverified": replication_statements,
    "replication.legacy_tls": replication_statements,
    "group_replication.recovery_unencrypted": group_replication_statements,
    "config.pending_reboot": reboot,
    "config.drift": settle_drift,
    "proxy.tls_not_required": require_tls_on_proxy,
    "evidence.incomplete": supply_missing_evidence,
}


def remediation_for(finding_id: str, view: View, evidence: dict) -> str:
    return BUILDERS[finding_id](view, evidence)
