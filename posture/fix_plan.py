"""One fix plan per endpoint: the open findings' remediations merged into one ordered script
for the provider, and what the change does to the endpoint and its clients.

Each finding's remediation (posture/remediation.py) is complete on its own, so two of them
may each create the same parameter group, change the CA or reboot. The plan asks the
provider once: every parameter value the findings want goes into one group change, the
certificate or CA changes once, and the endpoint reboots once, last. Which finding wants what
is read from the builder the catalogue names for it (posture/catalogue.py), so no finding id
is repeated here. Prose becomes `#` comments; SQL runs in one session (a here-document), so
the script can be copied as a whole. Pure: facts and open findings in, a FixPlan out.

What other endpoints share the group being changed, and which clients would fail, are facts
of the fleet and of client evidence: the dashboard fills them in (docs/design.md "Fix plan").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from posture import remediation as fix
from posture.catalogue import ENTRIES
from posture.effective import EffectiveFacts

_SQL = re.compile(
    r"^(ALTER|CALL|CHANGE|CREATE|DROP|FLUSH|GRANT|INSTALL|REVOKE|SET|START|STOP)\b", re.I
)
# Builders whose fix is a parameter value (merged into one group change), with the values.
_PARAMETER_FIXES = {
    fix.enforce_transport: lambda e, _ev: e.provider.enforcement_values(e),
    # The same change; the catalogue's text adds the readiness verdict, which the plan's
    # impact gives as "clients that would fail" (posture/rules_clients.py).
    fix.enforce_transport_when_ready: lambda e, _ev: e.provider.enforcement_values(e),
    fix.require_ssl_per_account: lambda e, _ev: e.provider.enforcement_values(e),
    fix.restrict_tls_versions: lambda e, _ev: (
        None if e.provider.managed_tls_note(e.facts) else fix.tls_version_values(e)
    ),
    fix.restrict_tls_versions_when_ready: lambda e, _ev: (
        None if e.provider.managed_tls_note(e.facts) else fix.tls_version_values(e)
    ),
    fix.strong_ciphers: lambda e, _ev: (
        None if e.provider.managed_tls_note(e.facts) else fix.cipher_values(e)
    ),
    fix.settle_drift: lambda _e, ev: fix.drift_values(ev) or None,
}
# Findings a parameter-group change fixes: one change to a shared group fixes every endpoint
# on it that has the finding (the fleet worklist's "one change fixes N").
GROUP_WIDE_FINDINGS = tuple(
    entry_id for entry_id, entry in ENTRIES.items() if entry.remediation in _PARAMETER_FIXES
)
# Client-side fixes (issue 16's clients.* findings): their first line says which clients to
# move; the server change after it is the enforcing finding's, made once in the plan.
_CLIENT_FIXES = (fix.clients_to_tls, fix.clients_to_modern_tls)
# Builders that change the certificate, most encompassing first: a CA rotation also issues a
# new server certificate, so one change covers the others.
_CERTIFICATE_FIXES = (
    (fix.ca_rotation, "ca"),
    (fix.apply_pending_rotation, "pending"),
    (fix.new_server_certificate, "renew"),
)
UNKNOWN_CLIENTS = "unknown: no client evidence yet"


@dataclass(frozen=True)
class OpenFinding:
    finding_id: str
    evidence: dict
    remediation: str


@dataclass
class FixPlan:
    script: str
    addresses: list[str]  # the finding ids the plan fixes
    parameters: dict[str, str]  # every parameter value the one group change sets
    restart: list[str]  # why the endpoint restarts; empty: it does not
    group_changed: str  # an existing parameter group the plan modifies ("" none)
    ca_to_trust: str  # the CA clients must trust before the change ("" none)
    # Endpoints that share group_changed (the dashboard fills them in from the fleet).
    sharing_group: list[str] = field(default_factory=list)
    # Clients that would fail once the plan is applied, from client-connection evidence.
    # None: unknown (no client evidence yet), which is never "none would fail".
    clients_that_would_fail: list[str] | None = None
    # The same in words, with the evidence it rests on or why it is unknown
    # (posture.rules_clients.clients_that_would_fail); "" before anyone filled it in.
    clients_verdict: str = ""

    @property
    def clients_text(self) -> str:
        if self.clients_verdict:
            return self.clients_verdict
        if self.clients_that_would_fail is None:
            return UNKNOWN_CLIENTS
        return ", ".join(self.clients_that_would_fail) or "none seen"


class _Script:
    """Lines of a shell script: commands, `#` comments, SQL gathered into here-documents;
    an exact line already written is not written again."""

    def __init__(self, effective: EffectiveFacts, reboot_lines: set[str]):
        self.prefixes = effective.provider.cli_prefixes
        self.reboot_lines = reboot_lines
        self.facts = effective.facts
        self.lines: list[str] = []
        self.seen: set[str] = set()
        self.reboot_seen = False

    def comment(self, text: str) -> None:
        self._add(f"# {text}")

    def block(self, text: str, *, reboot: bool = False) -> None:
        """Write `text`; its reboot commands are held back for the one reboot at the end,
        unless this is that reboot."""
        sql: list[str] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                self._add(line)  # already a comment: an alternative, not a step
            elif line in self.reboot_lines and not reboot:
                self.reboot_seen = True  # one reboot, last
            elif line.startswith(self.prefixes):
                self._add(line)
            elif _SQL.match(line):
                sql.append(line)
            else:
                self.comment(line)
        if sql:
            self._sql(sql)

    def _sql(self, statements: list[str]) -> None:
        host = self.facts.endpoint_host or "<endpoint>"
        port = self.facts.endpoint_port or 3306
        self.comment("as an administrative user, in a session verified against the endpoint:")
        self.lines.append(
            f"mysql --host {host} --port {port} --user '<admin-user>' -p "
            "--ssl-mode=VERIFY_IDENTITY <<'SQL'"
        )
        self.lines.extend(statements)
        self.lines.append("SQL")

    def _add(self, line: str) -> None:
        if line not in self.seen:
            self.seen.add(line)
            self.lines.append(line)


def build_fix_plan(effective: EffectiveFacts, findings: Iterable[OpenFinding]) -> FixPlan | None:
    """The plan for the open `findings` of one endpoint; None when there are none."""
    findings = [f for f in findings if f.finding_id in ENTRIES]
    if not findings:
        return None
    provider, facts = effective.provider, effective.facts
    builders = {f.finding_id: ENTRIES[f.finding_id].remediation for f in findings}

    parameters: dict[str, str] = {}
    by_parameters, certificate, reboot_wanted, others, clients_first = [], {}, False, [], []
    # Drift first: the values other findings ask for are the target and win.
    for finding in sorted(findings, key=lambda f: builders[f.finding_id] is not fix.settle_drift):
        builder = builders[finding.finding_id]
        values = None
        if builder in _PARAMETER_FIXES:
            values = _PARAMETER_FIXES[builder](effective, finding.evidence)
        if values:
            parameters.update(values)
            by_parameters.append(finding.finding_id)
            continue
        kind = next((k for b, k in _CERTIFICATE_FIXES if b is builder), None)
        if builder in _CLIENT_FIXES:
            clients_first.append(finding.remediation.splitlines()[0])
        elif kind:
            certificate.setdefault(kind, []).append(finding)
        elif builder is fix.reboot:
            reboot_wanted = True
        else:
            others.append(finding)

    reboot_text = provider.reboot(effective)
    script = _Script(effective, {line.strip() for line in reboot_text.splitlines()})
    script.comment(
        f"Fix plan for {facts.identifier} ({facts.account}, {facts.region}): "
        + ", ".join(f.finding_id for f in findings)
    )
    rotation = next((kind for _, kind in _CERTIFICATE_FIXES if kind in certificate), "")
    ca_to_trust = provider.ca_clients_must_trust(effective, rotation=rotation) if rotation else ""
    if ca_to_trust:
        script.comment(f"Before you start: clients that verify the server must trust {ca_to_trust}")
    for line in clients_first:
        script.comment(f"Before you start: {line}")
    step = 0
    if parameters:
        step += 1
        script.comment(f"{step}. One parameter change ({', '.join(by_parameters)}):")
        script.block(provider.change_parameters(facts, parameters))
    if rotation:
        step += 1
        covered = [f.finding_id for group in certificate.values() for f in group]
        script.comment(f"{step}. The certificate, once ({', '.join(covered)}):")
        script.block(certificate[rotation][0].remediation)
    for finding in others:
        step += 1
        script.comment(f"{step}. {finding.finding_id}:")
        script.block(finding.remediation)
    restart = provider.restart_reasons(
        effective, parameters=list(parameters), certificate=bool(rotation)
    )
    if reboot_wanted:
        restart.append("a TLS parameter change is waiting for a reboot (config.pending_reboot)")
    if script.reboot_seen or reboot_wanted:
        step += 1
        script.comment(f"{step}. Reboot once, last, so every change above applies:")
        script.block(reboot_text, reboot=True)
    return FixPlan(
        script="\n".join(script.lines),
        addresses=[f.finding_id for f in findings],
        parameters=parameters,
        restart=restart,
        group_changed=provider.group_changed(facts) if parameters else "",
        ca_to_trust=ca_to_trust,
    )
