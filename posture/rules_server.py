"""Rules about the server's own configuration: replication channels, Group Replication
recovery, parameters waiting for a reboot and live values that drifted from the API. Pure.
"""

from __future__ import annotations

from checker.evidence import ReplicationChannel
from common import engines
from common.normalise import (
    LEGACY_TLS_VERSIONS,
    normalise_bool,
    normalise_tls_versions,
    same_parameter_value,
)
from common.timeutil import iso_z
from posture.effective import EffectiveFacts
from posture.outcomes import Outcome, Raised, Unknown

_PENDING_REBOOT = "pending-reboot"
_EXPLICIT_SOURCES = {"api:apsaradb-parameters"}  # ApsaraDB states what it runs


def _channels(effective: EffectiveFacts) -> list[ReplicationChannel] | Unknown:
    if not effective.session_ok:
        return Unknown(effective.no_session_reason)
    readout = effective.session.replication
    if readout.state == "not-applicable":
        return []
    if readout.state != "ok":
        return Unknown(f"replication not readable ({readout.state}: {readout.reason})")
    return readout.channels


def _channel_evidence(effective: EffectiveFacts, channels: list[ReplicationChannel]) -> dict:
    return {
        "channels": [
            {
                "name": c.name,
                "source_host": c.source_host,
                "source_port": c.source_port,
                "ssl_allowed": c.ssl_allowed,
                "ssl_verify_server_cert": c.ssl_verify_server_cert,
                "tls_version": c.tls_version,
                "tls_ciphersuites": c.tls_ciphersuites,
                "ssl_ca_file": c.ssl_ca_file,
            }
            for c in channels
        ],
        "source": "live-variable",
        "at": iso_z(effective.checked_at),
    }


def _encrypted(channel: ReplicationChannel) -> bool | None:
    if channel.ssl_allowed is None:
        return None
    return channel.ssl_allowed.strip().upper() == "YES"


def _judge_channels(effective: EffectiveFacts, verdict) -> Outcome:
    """verdict(channel) → True (bad), False (fine) or None (cannot tell)."""
    channels = _channels(effective)
    if isinstance(channels, Unknown):
        return channels
    judged = [(channel, verdict(channel)) for channel in channels]
    bad = [channel for channel, is_bad in judged if is_bad]
    if bad:
        return Raised(_channel_evidence(effective, bad))
    undecided = [channel.name or "(default)" for channel, is_bad in judged if is_bad is None]
    if undecided:
        return Unknown(f"channel(s) {', '.join(undecided)} do not say")
    return None


def replication_unencrypted(effective: EffectiveFacts) -> Outcome:
    def unencrypted(channel):
        encrypted = _encrypted(channel)
        return None if encrypted is None else not encrypted

    return _judge_channels(effective, unencrypted)


def replication_unverified(effective: EffectiveFacts) -> Outcome:
    def unverified(channel):
        if _encrypted(channel) is not True:
            return False  # replication.unencrypted already covers it
        if channel.ssl_verify_server_cert is None:
            return None
        return not channel.ssl_verify_server_cert

    return _judge_channels(effective, unverified)


def _mysql_client_default_allows_legacy(effective: EffectiveFacts) -> bool | None:
    """An empty channel tls_version means the client library default: MySQL < 8.0.28 kept
    TLS 1.0/1.1 in it; MariaDB does not report the channel's version at all."""
    if effective.uses_mariadb:
        return None
    version = engines.version_tuple(
        str(effective.session.variables.get("version") or "") or effective.facts.engine_version
    )
    if not version:
        return None
    return version < (8, 0, 28)


def replication_legacy_tls(effective: EffectiveFacts) -> Outcome:
    def legacy(channel):
        if _encrypted(channel) is not True:
            return False
        if channel.tls_version is None:
            return None
        if not channel.tls_version.strip():
            return _mysql_client_default_allows_legacy(effective)
        versions = normalise_tls_versions(channel.tls_version) or []
        return any(v in LEGACY_TLS_VERSIONS for v in versions)

    return _judge_channels(effective, legacy)


def group_replication_recovery_unencrypted(effective: EffectiveFacts) -> Outcome:
    if not effective.session_ok:
        return Unknown(effective.no_session_reason)
    variables = effective.session.group_replication
    if not variables:
        return None  # Group Replication is not in use
    use_ssl = normalise_bool(variables.get("group_replication_recovery_use_ssl"))
    versions = normalise_tls_versions(variables.get("group_replication_recovery_tls_version"))
    problems = []
    if use_ssl is False:
        problems.append("group_replication_recovery_use_ssl is OFF")
    legacy = [v for v in versions or [] if v in LEGACY_TLS_VERSIONS]
    if use_ssl and legacy:
        problems.append(f"group_replication_recovery_tls_version allows {', '.join(legacy)}")
    if problems:
        return Raised(
            {
                "problems": problems,
                "variables": dict(variables),
                "source": "live-variable",
                "at": iso_z(effective.checked_at),
            }
        )
    if use_ssl is None:
        return Unknown("group_replication_recovery_use_ssl was not read")
    return None


def group_replication_unencrypted(effective: EffectiveFacts) -> Outcome:
    """group_replication_ssl_mode=DISABLED: the members' group communication (XCom) runs
    without TLS, whatever the recovery channel does."""
    if not effective.session_ok:
        return Unknown(effective.no_session_reason)
    variables = effective.session.group_replication
    if not variables:
        return None  # Group Replication is not in use
    mode = (variables.get("group_replication_ssl_mode") or "").strip().upper()
    if not mode:
        return Unknown("group_replication_ssl_mode was not read")
    if mode != "DISABLED":
        return None
    return Raised(
        {
            "problems": ["group_replication_ssl_mode is DISABLED"],
            "variables": dict(variables),
            "source": "live-variable",
            "at": iso_z(effective.checked_at),
        }
    )


def _group_pending(effective: EffectiveFacts) -> bool:
    return effective.facts.parameter_apply_status.lower() == _PENDING_REBOOT


def config_pending_reboot(effective: EffectiveFacts) -> Outcome:
    facts = effective.facts
    if facts.kind == "proxy":
        return None
    pending = [p for p in facts.parameters if p.apply_status.lower() == _PENDING_REBOOT]
    if pending or _group_pending(effective):
        return Raised(
            {
                "parameter_group": facts.parameter_group or None,
                "parameter_apply_status": facts.parameter_apply_status or None,
                "parameters": [
                    {
                        "name": p.name,
                        "after_reboot": p.raw_value,
                        "apply_status": p.apply_status,
                        "running": effective.running(p.name).evidence(),
                    }
                    for p in pending
                ],
                "source": "api",
                "at": iso_z(facts.synced_at),
            }
        )
    if not facts.parameters and not facts.parameter_apply_status:
        return Unknown(facts.lookup_error("param") or "the API stated no TLS parameters")
    return None


def config_drift(effective: EffectiveFacts) -> Outcome:
    facts = effective.facts
    if facts.kind == "proxy":
        return None
    explicit = [
        p
        for p in facts.parameters
        if p.raw_value is not None
        and (p.set_by.lower() == "user" or p.source in _EXPLICIT_SOURCES)
        and p.apply_status.lower() != _PENDING_REBOOT
    ]
    if _group_pending(effective):
        explicit = []  # a pending reboot explains any difference (config.pending_reboot)
    differences, unread = [], []
    for parameter in explicit:
        live = effective.live_variable(parameter.name)
        if not live.known or live.stale:
            unread.append(parameter.name)
            continue
        if not same_parameter_value(parameter.name, parameter.value, live.value):
            differences.append(
                {
                    "name": parameter.name,
                    "api_raw": parameter.raw_value,
                    "api_value": parameter.value,
                    "api_source": parameter.source,
                    "api_source_name": parameter.source_name,
                    "live_raw": live.raw,
                    "live_value": live.value,
                    "live_at": iso_z(live.at),
                }
            )
    if differences:
        # The live reading is what differs; each difference names the API source it differs from.
        return Raised(
            {
                "differences": differences,
                "source": "live-variable",
                "at": iso_z(effective.checked_at),
            }
        )
    if unread:
        why = effective.no_session_reason or (
            "the live reading is stale" if not effective.fresh else ""
        )
        return Unknown(f"no fresh live value of {', '.join(unread)}" + (f": {why}" if why else ""))
    return None
