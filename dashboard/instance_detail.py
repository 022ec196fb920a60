"""Everything the instance page shows about one endpoint, in a fixed number of queries.

The latest observation's evidence is read through checker.evidence (the tolerant reader of
the versioned schema) and laid out in the catalogue's terms: each protocol version and
cipher class with its verdict and reason, the chain with trust and hostname verdicts, and
the session readouts when a login happened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from checker.client_evidence import client_window
from checker.evidence import (
    CIPHER_CLASSES,
    PROTOCOL_VERSIONS,
    CertificateInfo,
    Evidence,
    SessionEvidence,
    Verdict,
)
from checker.models import ClientReadout, ClientSighting, Observation, TargetState
from dashboard.fix_plans import (
    GradeCap,
    endpoint_fix_plan,
    grade_caps,
    observed_line,
    plain_facts,
)
from inventory.models import DBInstance, PendingAction, TLSParameter
from posture.catalogue import ENTRIES
from posture.fix_plan import FixPlan
from posture.grades import severity_rank
from posture.models import Finding, GradeChange, InstancePosture, is_behind

CIPHER_CLASS_WORDS = {
    "anonymous_null_export": "anonymous, NULL or EXPORT suites (cipher.anonymous_or_null)",
    "broken": "RC4, DES, 3DES or MD5 suites (cipher.broken)",
    "static_rsa": "static-RSA key exchange, no forward secrecy (cipher.no_forward_secrecy)",
    "non_aead": "CBC suites with forward secrecy (not AEAD; blocks A+)",
}
HISTORY_LIMIT = 50
RESOLVED_LIMIT = 20


# Protocol versions an endpoint should accept; every other version, and every weak cipher
# class, should be refused.
WANTED_VERSIONS = ("TLSv1.2", "TLSv1.3")


@dataclass(frozen=True)
class ProbeLine:
    name: str
    verdict: Verdict
    wanted: bool = False  # accepting it is good, refusing it bad

    @property
    def tone(self) -> str:
        """good, bad or unknown: what the verdict means, not what the server did."""
        state = self.verdict.state
        if state not in ("accepted", "rejected"):
            return "unknown"
        if self.name == "TLSv1.2" and state == "rejected":
            return "unknown"  # fine where TLS 1.3 is accepted; TLS 1.3's own line tells
        return "good" if (state == "accepted") == self.wanted else "bad"


@dataclass(frozen=True)
class ChainLink:
    position: str  # "leaf", "intermediate 1", …
    certificate: CertificateInfo


@dataclass(frozen=True)
class FindingView:
    finding: Finding
    title: str
    evidence_text: str  # the raw JSON, behind a disclosure
    facts: list[str] = field(default_factory=list)  # two or three plain facts
    observed: str = ""  # its source and time


@dataclass
class LiveEvidence:
    observation: Observation
    evidence: Evidence | None
    unreadable: str = ""  # why the evidence could not be read (another schema version)
    protocols: list[ProbeLine] = field(default_factory=list)
    cipher_classes: list[ProbeLine] = field(default_factory=list)
    chain: list[ChainLink] = field(default_factory=list)

    @property
    def session(self) -> SessionEvidence | None:
        return self.evidence.session if self.evidence else None

    @property
    def accounts_without_ssl(self):
        session = self.session
        if session is None:
            return []
        return [a for a in session.accounts.remote if not a.ssl_type]


@dataclass
class InstanceDetail:
    instance: DBInstance
    posture: InstancePosture | None
    state: TargetState | None
    parameters: list[TLSParameter]
    pending: list[PendingAction]
    findings: list[FindingView]
    resolved: list[Finding]
    history: list[GradeChange]
    live: LiveEvidence | None
    # The stored evaluation is older than the newest evidence (models.evaluation_behind).
    evaluation_behind: bool = False
    plan: FixPlan | None = None
    caps: list[GradeCap] = field(default_factory=list)  # what holds the grade where it is
    # Clients seen within the window, and what the latest check could read of them.
    clients: list[ClientSighting] = field(default_factory=list)
    client_readout: ClientReadout | None = None
    client_window_days: int = 30


def _related(instance, name):
    try:
        return getattr(instance, name)
    except ObjectDoesNotExist:
        return None


def load_instance_detail(instances: QuerySet[DBInstance], pk: int) -> InstanceDetail:
    """Endpoint `pk` among `instances` (those the user may see), else 404."""
    instance = get_object_or_404(
        instances.select_related(
            "account", "ca", "parent", "posture", "check_state", "check_state__latest"
        ),
        pk=pk,
    )
    state = _related(instance, "check_state")
    open_rows = sorted(
        Finding.objects.filter(instance=instance, resolved_at__isnull=True),
        key=lambda f: (severity_rank(f.severity), f.finding_id),
    )
    posture = _related(instance, "posture")
    resolved = Finding.objects.filter(instance=instance, resolved_at__isnull=False).defer(
        "evidence", "remediation"
    )
    return InstanceDetail(
        instance=instance,
        posture=posture,
        state=state,
        parameters=list(instance.tls_parameters.all()),
        pending=list(instance.pending_actions.all()),
        findings=[
            FindingView(
                f,
                ENTRIES[f.finding_id].title if f.finding_id in ENTRIES else f.finding_id,
                json.dumps(f.evidence, indent=2, ensure_ascii=False, sort_keys=True),
                plain_facts(f.evidence),
                observed_line(f.evidence),
            )
            for f in open_rows
        ],
        resolved=list(resolved.order_by("-resolved_at")[:RESOLVED_LIMIT]),
        history=list(instance.grade_history.all()[:HISTORY_LIMIT]),
        live=read_live(state.latest) if state and state.latest else None,
        evaluation_behind=is_behind(instance, posture, state),
        plan=endpoint_fix_plan(instance, open_rows, instances),
        caps=grade_caps(posture.grade, open_rows) if posture else [],
        clients=list(
            ClientSighting.objects.filter(
                instance=instance, last_seen__gte=timezone.now() - client_window()
            ).order_by("tls_version", "-last_seen", "user", "host")
        ),
        client_readout=ClientReadout.objects.filter(instance=instance).first(),
        client_window_days=client_window().days,
    )


def read_live(observation: Observation) -> LiveEvidence:
    try:
        evidence = Evidence.from_dict(observation.evidence)
    except (ValueError, TypeError) as exc:
        return LiveEvidence(observation, None, unreadable=str(exc))
    probe = evidence.probe
    return LiveEvidence(
        observation,
        evidence,
        protocols=[
            ProbeLine(v, probe.protocols.get(v) or Verdict(), wanted=v in WANTED_VERSIONS)
            for v in PROTOCOL_VERSIONS
        ],
        cipher_classes=[
            ProbeLine(CIPHER_CLASS_WORDS.get(c, c), probe.cipher_classes.get(c) or Verdict())
            for c in CIPHER_CLASSES
        ],
        chain=[
            ChainLink("leaf" if n == 0 else f"issuer {n}", certificate)
            for n, certificate in enumerate(probe.chain)
        ],
    )
