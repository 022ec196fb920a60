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
from inventory.models import DBInstance, PendingAction, TLSParameter
from posture.catalogue import ENTRIES
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


@dataclass(frozen=True)
class ProbeLine:
    name: str
    verdict: Verdict


@dataclass(frozen=True)
class ChainLink:
    position: str  # "leaf", "intermediate 1", …
    certificate: CertificateInfo


@dataclass(frozen=True)
class FindingView:
    finding: Finding
    title: str
    evidence_text: str


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
    resolved = Finding.objects.filter(instance=instance, resolved_at__isnull=False).defer(
        "evidence", "remediation"
    )
    return InstanceDetail(
        instance=instance,
        posture=_related(instance, "posture"),
        state=state,
        parameters=list(instance.tls_parameters.all()),
        pending=list(instance.pending_actions.all()),
        findings=[
            FindingView(
                f,
                ENTRIES[f.finding_id].title if f.finding_id in ENTRIES else f.finding_id,
                json.dumps(f.evidence, indent=2, ensure_ascii=False, sort_keys=True),
            )
            for f in open_rows
        ],
        resolved=list(resolved.order_by("-resolved_at")[:RESOLVED_LIMIT]),
        history=list(instance.grade_history.all()[:HISTORY_LIMIT]),
        live=read_live(state.latest) if state and state.latest else None,
        evaluation_behind=is_behind(instance, _related(instance, "posture"), state),
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
        protocols=[ProbeLine(v, probe.protocols.get(v) or Verdict()) for v in PROTOCOL_VERSIONS],
        cipher_classes=[
            ProbeLine(CIPHER_CLASS_WORDS.get(c, c), probe.cipher_classes.get(c) or Verdict())
            for c in CIPHER_CLASSES
        ],
        chain=[
            ChainLink("leaf" if n == 0 else f"issuer {n}", certificate)
            for n, certificate in enumerate(probe.chain)
        ],
    )
