"""The remediation of each finding: the exact command or statement for this provider and engine.

Pure. What depends on the provider — its commands and console paths — comes from the
endpoint's provider module (posture/providers/); what depends on the engine from
common/engines.py; the SQL statements are the engines' own. Identifiers come from the facts;
what cannot be known is an <angle-bracket> placeholder. No secret is ever part of a
remediation (passwords stay placeholders).
"""

from __future__ import annotations

from common import engines
from common.normalise import TLS_VERSIONS, lowest_tls_version
from posture import rules_clients
from posture.ciphers import weakening_tokens
from posture.effective import EffectiveFacts

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
_MAX_LISTED = 20


def sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _target_tls_versions(effective: EffectiveFacts) -> str:
    return "TLSv1.2" if effective.supports_tls13 is False else "TLSv1.2,TLSv1.3"


# ---- transport -------------------------------------------------------------------------


def enforce_transport(effective: EffectiveFacts, _evidence: dict) -> str:
    return effective.provider.enforce_tls(effective)


def enforce_transport_when_ready(effective: EffectiveFacts, evidence: dict) -> str:
    """transport.not_enforced: how, then who would break (posture/rules_clients.py)."""
    readiness = rules_clients.enforce_tls_readiness(effective)
    last = f"Readiness: {readiness.verdict}."
    if readiness.state == rules_clients.NOT_READY:
        last += " Move these clients to TLS first: once TLS is enforced they fail with error 3159."
    elif readiness.state == rules_clients.UNKNOWN:
        last += (
            " A client still connecting without TLS would fail with error 3159 "
            "(clients.plaintext_observed names them once the checker can read them)."
        )
    return "\n".join([enforce_transport(effective, evidence), last])


def clients_to_tls(effective: EffectiveFacts, evidence: dict) -> str:
    clients = [c["client"] for c in evidence.get("clients", [])]
    lines = [
        "Configure each of these clients to connect with TLS, verifying the server "
        "(ssl-mode=VERIFY_IDENTITY with the provider's trust bundle): "
        + (", ".join(clients[:_MAX_LISTED]) or "the clients counted without names")
        + ("" if len(clients) <= _MAX_LISTED else f" and {len(clients) - _MAX_LISTED} more")
        + ".",
        "Once none is seen for the whole window, enforce TLS:",
        enforce_transport(effective, evidence),
    ]
    return "\n".join(lines)


def require_ssl_per_account(effective: EffectiveFacts, evidence: dict) -> str:
    accounts = evidence.get("accounts", [])
    lines = [
        f"ALTER USER {sql_string(a['user'])}@{sql_string(a['host'])} REQUIRE SSL;"
        for a in accounts[:_MAX_LISTED]
    ]
    if len(accounts) > _MAX_LISTED:
        lines.append(f"-- and {len(accounts) - _MAX_LISTED} more accounts the same way")
    lines.append("Enforcing TLS for every connection covers all accounts at once:")
    lines.append(enforce_transport(effective, evidence))
    return "\n".join(lines)


def enable_tls(effective: EffectiveFacts, _evidence: dict) -> str:
    return effective.provider.enable_tls(effective)


# ---- protocols and ciphers --------------------------------------------------------------


def tls_version_values(effective: EffectiveFacts) -> dict[str, str]:
    """The parameter values that restrict protocol versions (also read by the fix plan)."""
    return {"tls_version": _target_tls_versions(effective)}


def cipher_values(effective: EffectiveFacts) -> dict[str, str]:
    """The parameter values that leave only strong suites (also read by the fix plan)."""
    suites = STRONG_TLS12_SUITES
    if effective.uses_mariadb and effective.supports_tls13 is not False:
        # MariaDB's ssl_cipher also names the TLS 1.3 suites (docs/reference/mysql-tls.md).
        suites = ":".join([suites, *engines.DEFAULT_TLS13_SUITES])
    return {"ssl_cipher": suites}


def restrict_tls_versions(effective: EffectiveFacts, _evidence: dict) -> str:
    provider, facts = effective.provider, effective.facts
    note = provider.managed_tls_note(facts)
    if note:
        return note
    return provider.change_parameters(facts, tls_version_values(effective))


def restrict_tls_versions_when_ready(effective: EffectiveFacts, evidence: dict) -> str:
    """protocol.legacy_tls: how, then which clients would break."""
    readiness = rules_clients.drop_legacy_tls_readiness(effective)
    last = f"Readiness: {readiness.verdict}."
    if readiness.state == rules_clients.NOT_READY:
        last += " Upgrade these clients' TLS library or driver to TLS 1.2 first."
    return "\n".join([restrict_tls_versions(effective, evidence), last])


def clients_to_modern_tls(effective: EffectiveFacts, evidence: dict) -> str:
    clients = [f"{c['client']} ({c['tls_version']})" for c in evidence.get("clients", [])]
    return "\n".join(
        [
            "Upgrade the TLS library or driver of these clients so they negotiate TLS 1.2 or "
            f"1.3: {', '.join(clients[:_MAX_LISTED])}"
            + ("" if len(clients) <= _MAX_LISTED else f" and {len(clients) - _MAX_LISTED} more")
            + ".",
            "Once none is seen for the whole window, refuse TLS 1.0/1.1:",
            restrict_tls_versions(effective, evidence),
        ]
    )


def strong_ciphers(effective: EffectiveFacts, _evidence: dict) -> str:
    provider, facts = effective.provider, effective.facts
    note = provider.managed_tls_note(facts)
    if note:
        return note
    return provider.change_parameters(facts, cipher_values(effective))


# ---- certificates and CAs -----------------------------------------------------------------


def new_server_certificate(effective: EffectiveFacts, _evidence: dict) -> str:
    return effective.provider.renew_certificate(effective)


def fix_hostname(effective: EffectiveFacts, _evidence: dict) -> str:
    return effective.provider.fix_hostname(effective)


def trust_bundle(effective: EffectiveFacts, evidence: dict) -> str:
    bundle = evidence.get("trust_bundle") or "the configured bundle"
    return effective.provider.trust_bundle_hint(effective, bundle)


def ca_rotation(effective: EffectiveFacts, _evidence: dict) -> str:
    return effective.provider.rotate_ca(effective)


def apply_pending_rotation(effective: EffectiveFacts, evidence: dict) -> str:
    return effective.provider.apply_pending_rotation(effective, evidence)


# ---- replication -------------------------------------------------------------------------


def _mysql_new_syntax(effective: EffectiveFacts) -> bool:
    version = engines.version_tuple(
        str(effective.session.variables.get("version") or "") or effective.facts.engine_version
    )
    return not version or version >= (8, 0, 23)


# Verifying the source needs the CA that signed its certificate; where the channel names
# none, the statement names it as a placeholder.
_SOURCE_CA = "'<path to the source CA certificate>'"


def replication_statements(effective: EffectiveFacts, evidence: dict) -> str:
    channels = evidence.get("channels", []) or [{"name": ""}]
    new_syntax = not effective.uses_mariadb and _mysql_new_syntax(effective)
    lines = []
    for found in channels:
        name = found.get("name", "")
        prefix = "SOURCE" if new_syntax else "MASTER"
        ca = "" if found.get("ssl_ca_file") else f", {prefix}_SSL_CA={_SOURCE_CA}"
        if effective.uses_mariadb:
            conn = f" {sql_string(name)}" if name else ""
            lines.append(
                f"STOP SLAVE{conn}; CHANGE MASTER{conn} TO MASTER_SSL=1, "
                f"MASTER_SSL_VERIFY_SERVER_CERT=1{ca}; START SLAVE{conn};"
            )
        elif new_syntax:
            channel = f" FOR CHANNEL {sql_string(name)}" if name else ""
            lines.append(
                f"STOP REPLICA{channel}; CHANGE REPLICATION SOURCE TO SOURCE_SSL=1, "
                f"SOURCE_SSL_VERIFY_SERVER_CERT=1{ca}, SOURCE_TLS_VERSION='TLSv1.2,TLSv1.3'"
                f"{channel}; START REPLICA{channel};"
            )
        else:
            channel = f" FOR CHANNEL {sql_string(name)}" if name else ""
            lines.append(
                f"STOP SLAVE{channel}; CHANGE MASTER TO MASTER_SSL=1, "
                f"MASTER_SSL_VERIFY_SERVER_CERT=1{ca}, MASTER_TLS_VERSION='TLSv1.2'{channel}; "
                f"START SLAVE{channel};"
            )
    note = effective.provider.replication_note(effective, new_syntax=new_syntax)
    if note:
        lines.append(note)
    return "\n".join(lines)


def group_replication_statements(effective: EffectiveFacts, _evidence: dict) -> str:
    versions = _target_tls_versions(effective)
    return (
        "STOP GROUP_REPLICATION; SET PERSIST group_replication_recovery_use_ssl=ON; "
        "SET PERSIST group_replication_recovery_ssl_verify_server_cert=ON; "
        f"SET PERSIST group_replication_recovery_tls_version='{versions}'; START GROUP_REPLICATION;"
    )


def group_replication_ssl_mode(effective: EffectiveFacts, _evidence: dict) -> str:
    # REQUIRED encrypts; VERIFY_IDENTITY also checks the peers' certificates and names.
    return (
        "STOP GROUP_REPLICATION; SET PERSIST group_replication_ssl_mode='REQUIRED'; "
        "START GROUP_REPLICATION; -- on every member (VERIFY_IDENTITY once their certificates "
        "name them)"
    )


# ---- configuration ------------------------------------------------------------------------


def reboot(effective: EffectiveFacts, _evidence: dict) -> str:
    return effective.provider.reboot(effective)


def _floor(versions) -> int:
    lowest = lowest_tls_version(versions)
    return TLS_VERSIONS.index(lowest) if lowest else -1


def _safer(name: str, difference: dict) -> str:
    """Of the API's and the live value, the raw value that is the safer one to keep."""
    api_raw, live_raw = difference["api_raw"], difference["live_raw"]
    api, live = difference["api_value"], difference["live_value"]
    if name in engines.enforcement_parameters():
        return live_raw if live is True and api is not True else api_raw
    if name == "tls_version":
        return live_raw if _floor(live) > _floor(api) else api_raw
    if name == "ssl_cipher":
        return live_raw if len(weakening_tokens(live)) < len(weakening_tokens(api)) else api_raw
    return api_raw


def drift_values(evidence: dict) -> dict[str, str]:
    """config.drift's evidence → the safer value of each parameter that differs."""
    return {d["name"]: _safer(d["name"], d) for d in evidence.get("differences", [])}


def settle_drift(effective: EffectiveFacts, evidence: dict) -> str:
    differences = evidence.get("differences", [])
    wanted = drift_values(evidence)
    shown = "; ".join(
        f"{d['name']}: API {d['api_raw']!r}, live {d['live_raw']!r}" for d in differences
    )
    return "\n".join(
        [
            f"Make the server and the API agree on the safer value ({shown}). If the live value "
            "was set by hand it is lost at the next restart; if the API value never reached the "
            "server, applying it again brings the server back:",
            effective.provider.change_parameters(effective.facts, wanted),
        ]
    )


def supply_missing_evidence(effective: EffectiveFacts, evidence: dict) -> str:
    lines = ["The grade cannot vouch for A or A+ until these facts are known:"]
    lines += [
        f"- {item['fact']} ({item['why']}): {item['supplied_by']}"
        for item in evidence.get("missing", [])
    ]
    return "\n".join(lines)
