"""The finding catalogue of DESIGN.md: stable ids, titles, severities and grade caps.

Ids are a contract (URLs, exports, digests): never rename one. Pure module.
"""

from __future__ import annotations

from dataclasses import dataclass

GRADE_ORDER = ("A+", "A", "B", "C", "D", "F")  # best first
NO_EVIDENCE = "?"
SEVERITIES = ("critical", "high", "medium", "low", "info")  # worst first

# CAs the provider has retired (ca.deprecated); compared lower-case.
DEPRECATED_CAS = frozenset({"rds-ca-2019", "rds-ca-2015", "rds-ca-2010"})

# Severity of the "by days" entries, and the cap that goes with it (cert.expiring, ca.expiring).
_CAP_BY_DAYS_SEVERITY = {"low": "A", "medium": "B", "high": "C"}


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    severity: str  # for "by days" entries: the severity at the widest threshold
    cap: str
    by_days: bool = False

    def cap_for(self, severity: str) -> str:
        if self.by_days:
            return _CAP_BY_DAYS_SEVERITY.get(severity, self.cap)
        return self.cap


CATALOGUE: tuple[Entry, ...] = (
    Entry("tls.unavailable", "The server offers no TLS", "critical", "F"),
    Entry(
        "transport.plaintext_login_accepted",
        "A login without TLS succeeded (canary)",
        "critical",
        "F",
    ),
    Entry("transport.not_enforced", "TLS is not enforced (require_secure_transport)", "high", "C"),
    Entry(
        "accounts.without_require_ssl",
        "Remote accounts may log in without TLS",
        "medium",
        "B",
    ),
    Entry("protocol.sslv3", "SSLv3 or older is accepted", "critical", "F"),
    Entry("protocol.legacy_tls", "TLS 1.0 or 1.1 is accepted or allowed", "high", "B"),
    Entry("protocol.no_tls13", "TLS 1.3 is supported but not offered", "low", "A"),
    Entry("cipher.anonymous_or_null", "Anonymous, NULL or EXPORT suites accepted", "critical", "F"),
    Entry("cipher.broken", "RC4, DES, 3DES or MD5 suites accepted", "high", "C"),
    Entry("cipher.no_forward_secrecy", "Static-RSA key exchange accepted", "medium", "B"),
    Entry("cipher.policy_weakened", "ssl_cipher lowers the security level", "high", "C"),
    Entry("cert.expired", "The server certificate has expired", "critical", "F"),
    Entry("cert.expiring", "The server certificate expires soon", "low", "A", by_days=True),
    Entry("cert.hostname_mismatch", "The certificate does not name the endpoint", "high", "C"),
    Entry("cert.untrusted", "The chain does not verify against the trust bundle", "high", "C"),
    Entry("cert.self_signed", "Self-signed or server-generated certificate", "high", "C"),
    Entry("cert.weak_key", "Weak certificate key", "high", "C"),
    Entry("cert.weak_signature", "SHA-1 or MD5 certificate signature", "high", "C"),
    Entry("ca.expired", "The instance's CA has expired", "critical", "F"),
    Entry("ca.expiring", "The instance's CA expires soon", "low", "A", by_days=True),
    Entry("ca.deprecated", "The instance uses a retired CA", "high", "C"),
    Entry("ca.rotation_pending", "A CA rotation or certificate renewal is pending", "medium", "B"),
    Entry("replication.unencrypted", "A replication channel does not use TLS", "high", "C"),
    Entry(
        "replication.unverified",
        "A replication channel does not verify the source certificate",
        "medium",
        "B",
    ),
    Entry("replication.legacy_tls", "A replication channel permits TLS 1.0/1.1", "medium", "B"),
    Entry(
        "group_replication.recovery_unencrypted",
        "Group Replication recovery without TLS or with legacy TLS",
        "medium",
        "B",
    ),
    Entry("config.pending_reboot", "A TLS parameter changed but is not applied", "medium", "B"),
    Entry("config.drift", "A live TLS variable differs from the API's value", "medium", "B"),
    Entry("proxy.tls_not_required", "RDS Proxy does not require TLS", "high", "C"),
    Entry(
        "evidence.incomplete",
        "The grade rests on incomplete evidence (no fresh live probe, or enforcement unknown)",
        "medium",
        "B",
    ),
)
# Raised when evidence is missing, so it alone does not turn "no evidence at all" into B.
INCOMPLETE_EVIDENCE = "evidence.incomplete"

ENTRIES: dict[str, Entry] = {entry.id: entry for entry in CATALOGUE}
FINDING_IDS: tuple[str, ...] = tuple(ENTRIES)


def severity_for_days(days_left: float, thresholds: tuple[int, int, int]) -> str | None:
    """90/30/7 → low/medium/high; None when further away than the widest threshold."""
    widest, middle, narrowest = thresholds
    if days_left <= narrowest:
        return "high"
    if days_left <= middle:
        return "medium"
    if days_left <= widest:
        return "low"
    return None


def cap_for(finding_id: str, severity: str) -> str:
    entry = ENTRIES.get(finding_id)
    return entry.cap_for(severity) if entry else "A"


def grade_rank(grade: str) -> int:
    """Lower is better; `?` ranks below every grade (it passes no minimum)."""
    return GRADE_ORDER.index(grade) if grade in GRADE_ORDER else len(GRADE_ORDER)


def worst_grade(grades) -> str:
    return max(grades, key=grade_rank, default="A")


def severity_rank(severity: str) -> int:
    """Lower is worse."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)
