"""The finding catalogue of docs/design.md, one record per id: its title, severity, grade
cap, the rule that decides it and the builder of its remediation.

Ids are a contract (URLs, exports, digests): never rename one. Adding a finding is one
`Entry` here, with its rule in posture/rules_*.py and its builder in posture/remediation.py.
Pure module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from posture import remediation as fix
from posture import rules_certificates as certs
from posture import rules_clients as clients
from posture import rules_connection as conn
from posture import rules_evidence as evidence
from posture import rules_server as server
from posture.effective import EffectiveFacts
from posture.outcomes import Outcome

# Severity of the "by days" entries, and the cap that goes with it (cert.expiring, ca.expiring).
_CAP_BY_DAYS_SEVERITY = {"low": "A", "medium": "B", "high": "C"}

Rule = Callable[[EffectiveFacts], Outcome]
Builder = Callable[[EffectiveFacts, dict], str]


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    severity: str  # for "by days" entries: the severity at the widest threshold
    cap: str
    rule: Rule  # decides it: raised (with evidence), clear, or unknown
    remediation: Builder  # the fix, from the same facts and the finding's evidence
    by_days: bool = False

    def cap_for(self, severity: str) -> str:
        if self.by_days:
            return _CAP_BY_DAYS_SEVERITY.get(severity, self.cap)
        return self.cap


CATALOGUE: tuple[Entry, ...] = (
    Entry(
        "tls.unavailable", "The server offers no TLS", "critical", "F",
        conn.tls_unavailable, fix.enable_tls,
    ),
    Entry(
        "transport.plaintext_login_accepted", "A login without TLS succeeded (canary)",
        "critical", "F", conn.plaintext_login_accepted, fix.enforce_transport,
    ),
    Entry(
        "transport.not_enforced", "TLS is not enforced (require_secure_transport)", "high", "C",
        conn.transport_not_enforced, fix.enforce_transport_when_ready,
    ),
    Entry(
        "accounts.without_require_ssl", "Remote accounts may log in without TLS", "medium", "B",
        conn.accounts_without_require_ssl, fix.require_ssl_per_account,
    ),
    Entry(
        "protocol.sslv3", "SSLv3 or older is accepted", "critical", "F",
        conn.protocol_sslv3, fix.restrict_tls_versions,
    ),
    Entry(
        "protocol.legacy_tls", "TLS 1.0 or 1.1 is accepted or allowed", "high", "B",
        conn.protocol_legacy_tls, fix.restrict_tls_versions_when_ready,
    ),
    Entry(
        "protocol.no_tls13", "TLS 1.3 is supported but not offered", "low", "A",
        conn.protocol_no_tls13, fix.restrict_tls_versions,
    ),
    Entry(
        "cipher.anonymous_or_null", "Anonymous, NULL or EXPORT suites accepted", "critical", "F",
        conn.cipher_class_rule("anonymous_null_export"), fix.strong_ciphers,
    ),
    Entry(
        "cipher.broken", "RC4, DES, 3DES or MD5 suites accepted", "high", "C",
        conn.cipher_class_rule("broken"), fix.strong_ciphers,
    ),
    Entry(
        "cipher.no_forward_secrecy", "Static-RSA key exchange accepted", "medium", "B",
        conn.cipher_class_rule("static_rsa"), fix.strong_ciphers,
    ),
    Entry(
        "cipher.policy_weakened", "ssl_cipher lowers the security level", "high", "C",
        conn.cipher_policy_weakened, fix.strong_ciphers,
    ),
    Entry(
        "cert.expired", "The server certificate has expired", "critical", "F",
        certs.cert_expired, fix.new_server_certificate,
    ),
    Entry(
        "cert.expiring", "The server certificate expires soon", "low", "A",
        certs.cert_expiring, fix.new_server_certificate, by_days=True,
    ),
    Entry(
        "cert.hostname_mismatch", "The certificate does not name the endpoint", "high", "C",
        certs.cert_hostname_mismatch, fix.fix_hostname,
    ),
    Entry(
        "cert.untrusted", "The chain does not verify against the trust bundle", "high", "C",
        certs.cert_untrusted, fix.trust_bundle,
    ),
    Entry(
        "cert.self_signed", "Self-signed or server-generated certificate", "high", "C",
        certs.cert_self_signed, fix.new_server_certificate,
    ),
    Entry(
        "cert.weak_key", "Weak certificate key", "high", "C",
        certs.cert_weak_key, fix.new_server_certificate,
    ),
    Entry(
        "cert.weak_signature", "SHA-1 or MD5 certificate signature", "high", "C",
        certs.cert_weak_signature, fix.new_server_certificate,
    ),
    Entry(
        "ca.expired", "The instance's CA has expired", "critical", "F",
        certs.ca_expired, fix.ca_rotation,
    ),
    Entry(
        "ca.expiring", "The instance's CA expires soon", "low", "A",
        certs.ca_expiring, fix.ca_rotation, by_days=True,
    ),
    Entry(
        "ca.deprecated", "The instance uses a retired CA", "high", "C",
        certs.ca_deprecated, fix.ca_rotation,
    ),
    Entry(
        "ca.rotation_pending", "A CA rotation or certificate renewal is pending", "medium", "B",
        certs.ca_rotation_pending, fix.apply_pending_rotation,
    ),
    Entry(
        "replication.unencrypted", "A replication channel does not use TLS", "high", "C",
        server.replication_unencrypted, fix.replication_statements,
    ),
    Entry(
        "replication.unverified",
        "A replication channel does not verify the source certificate", "medium", "B",
        server.replication_unverified, fix.replication_statements,
    ),
    Entry(
        "replication.legacy_tls", "A replication channel permits TLS 1.0/1.1", "medium", "B",
        server.replication_legacy_tls, fix.replication_statements,
    ),
    Entry(
        "group_replication.recovery_unencrypted",
        "Group Replication recovery without TLS or with legacy TLS", "medium", "B",
        server.group_replication_recovery_unencrypted, fix.group_replication_statements,
    ),
    Entry(
        "group_replication.unencrypted",
        "Group Replication members talk without TLS (group_replication_ssl_mode)", "medium", "B",
        server.group_replication_unencrypted, fix.group_replication_ssl_mode,
    ),
    Entry(
        "config.pending_reboot", "A TLS parameter changed but is not applied", "medium", "B",
        server.config_pending_reboot, fix.reboot,
    ),
    Entry(
        "config.drift", "A live TLS variable differs from the API's value", "medium", "B",
        server.config_drift, fix.settle_drift,
    ),
    Entry(
        "proxy.tls_not_required", "RDS Proxy does not require TLS", "high", "C",
        conn.proxy_tls_not_required, fix.enforce_transport,
    ),
    Entry(
        "clients.plaintext_observed", "Client sessions were seen without TLS", "high", "C",
        clients.clients_plaintext_observed, fix.clients_to_tls,
    ),
    Entry(
        "clients.legacy_tls_observed", "Client sessions were seen on TLS 1.0 or 1.1", "medium",
        "B", clients.clients_legacy_tls_observed, fix.clients_to_modern_tls,
    ),
    Entry(
        "evidence.incomplete",
        "The grade rests on incomplete evidence (no fresh live probe, or enforcement unknown)",
        "medium", "B", evidence.evidence_incomplete, fix.supply_missing_evidence,
    ),
)  # fmt: skip
# Raised when evidence is missing, so it alone does not turn "no evidence at all" into B.
INCOMPLETE_EVIDENCE = "evidence.incomplete"

ENTRIES: dict[str, Entry] = {entry.id: entry for entry in CATALOGUE}
FINDING_IDS: tuple[str, ...] = tuple(ENTRIES)


def cap_for(finding_id: str, severity: str) -> str:
    entry = ENTRIES.get(finding_id)
    return entry.cap_for(severity) if entry else "A"
