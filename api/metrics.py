"""The fleet as Prometheus metrics: a custom Collector that streams from the database.

Each family is one query over current endpoints (or open findings, or sync outcomes),
read with a server-side iterator and handed out in chunks of CHUNK samples, so a scrape
holds one chunk in memory whatever the fleet size and costs a fixed number of queries
(README "Integrations" has the table of metrics; bench/metrics.py measures a scrape).
A consecutive run of chunks with the same name is one family: `exposition.stream()` writes
its HELP and TYPE once.

Unknown is never a value: a fact that is not known has no sample (a server certificate
whose expiry is unknown, transport enforcement not learned, a TLS version not tested).
Labels are names the dashboard shows anyway; no secret is ever a label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from django.db.models import Max, Q
from prometheus_client.core import GaugeMetricFamily, Metric

from checker.evidence import PROTOCOL_VERSIONS
from checker.models import Observation
from inventory.models import ACTIVE, CloudAccount, DBInstance, SyncRegion, SyncRun
from posture.grades import GRADE_ORDER, NO_EVIDENCE
from posture.models import Finding

CHUNK = 1000
ENDPOINT_LABELS = ("provider", "account", "region", "identifier", "kind", "engine")
_ENDPOINT_FIELDS = ("provider", "account__name", "region", "identifier", "kind", "engine")
SYNC_LABELS = ("provider", "account", "region")
# tlsposture_grade_score: A+ 6, A 5, B 4, C 3, D 2, F 1; ? (no evidence) 0.
GRADE_SCORES = {grade: len(GRADE_ORDER) - rank for rank, grade in enumerate(GRADE_ORDER)}
GRADE_SCORES[NO_EVIDENCE] = 0

Sample = tuple[list[str], float]


@dataclass(frozen=True)
class Family:
    name: str
    documentation: str
    labels: tuple[str, ...]
    samples: Callable[[], Iterable[Sample]]


def _seconds(moment: datetime) -> float:
    return moment.timestamp()


def _endpoints(*fields: str, **filters) -> Iterator[tuple[list[str], tuple]]:
    """(endpoint labels, the asked fields) of every current endpoint, in primary-key order."""
    rows = (
        DBInstance.objects.filter(ACTIVE, **filters)
        .order_by("pk")
        .values_list(*_ENDPOINT_FIELDS, *fields)
    )
    width = len(_ENDPOINT_FIELDS)
    for row in rows.iterator(chunk_size=CHUNK):
        yield list(row[:width]), row[width:]


def _endpoint_value(
    field: str, value: Callable[[object], float], *, known: str | None = None
) -> Callable[[], Iterator]:
    """One sample per endpoint whose `field` (or the field `known`) is known."""

    def samples():
        for labels, (raw,) in _endpoints(field, **{f"{known or field}__isnull": False}):
            yield labels, value(raw)

    return samples


def _grades(value: Callable[[str], tuple[list[str], float]]) -> Callable[[], Iterator]:
    def samples():
        for labels, (grade,) in _endpoints("posture__grade"):
            extra, number = value(grade or NO_EVIDENCE)
            yield labels + extra, number

    return samples


def _tls_versions() -> Iterator[Sample]:
    """1 accepted, 0 refused by a handshake; a version not learned has no sample."""
    known = {"posture__tls_versions_accepted__isnull": False}
    fields = ("posture__tls_versions_accepted", "posture__tls_versions_rejected")
    for labels, (accepted, rejected) in _endpoints(*fields, **known):
        for version in PROTOCOL_VERSIONS:
            if version in accepted:
                yield [*labels, version], 1.0
            elif version in (rejected or ()):
                yield [*labels, version], 0.0


def _open_findings() -> Iterator[Sample]:
    prefix = tuple(f"instance__{field}" for field in _ENDPOINT_FIELDS)
    rows = (
        Finding.objects.filter(resolved_at__isnull=True, instance__gone_at__isnull=True)
        .order_by("instance_id", "finding_id")
        .values_list(*prefix, "finding_id", "severity")
    )
    for row in rows.iterator(chunk_size=CHUNK):
        yield list(row), 1.0


@dataclass(frozen=True)
class RegionSync:
    provider: str
    account: str
    region: str
    last_ok: datetime | None
    succeeded: bool

    @property
    def labels(self) -> list[str]:
        return [self.provider, self.account, self.region]


def region_syncs() -> list[RegionSync]:
    """Every region of every enabled account: when it last synced and whether its latest
    sync succeeded. A run that failed before reaching any region (credentials, region
    discovery) fails every region of its account; a region never synced has not succeeded.
    Four queries; as many rows as accounts × regions."""
    accounts = {a.pk: a for a in CloudAccount.objects.filter(enabled=True)}
    regions: dict[tuple[int, str], dict] = {}
    for account in accounts.values():
        for region in account.regions or ():
            regions.setdefault((account.pk, region), {})
    outcomes = (
        SyncRegion.objects.filter(run__account__enabled=True)
        .values("run__account_id", "region")
        .annotate(
            ok=Max("finished_at", filter=Q(status=SyncRegion.Status.OK)),
            failed=Max("finished_at", filter=Q(status=SyncRegion.Status.FAILED)),
        )
        .order_by()
    )
    for row in outcomes:
        regions[row["run__account_id"], row["region"]] = {"ok": row["ok"], "failed": row["failed"]}
    endpoints = DBInstance.objects.filter(ACTIVE, account__enabled=True).values_list(
        "account_id", "region"
    )
    for key in endpoints.order_by().distinct():
        regions.setdefault(key, {})
    whole = (
        SyncRun.objects.filter(
            account__enabled=True, status=SyncRun.Status.FAILED, regions__isnull=True
        )
        .values("account_id")
        .annotate(at=Max("started_at"))
        .order_by()
    )
    failed_whole = {row["account_id"]: row["at"] for row in whole}
    syncs = []
    for (account_id, region), seen in sorted(
        regions.items(), key=lambda item: (accounts[item[0][0]].name, item[0][1])
    ):
        account = accounts[account_id]
        ok = seen.get("ok")
        failures = [t for t in (seen.get("failed"), failed_whole.get(account_id)) if t]
        succeeded = ok is not None and all(ok >= t for t in failures)
        syncs.append(RegionSync(account.provider, account.name, region, ok, succeeded))
    return syncs


class FleetCollector:
    """A prometheus_client Collector (`collect()`): the families of README's metric table,
    each in chunks of at most CHUNK samples."""

    def __init__(self, chunk: int = CHUNK):
        self.chunk = chunk
        self._syncs: list[RegionSync] | None = None

    def _region_syncs(self) -> list[RegionSync]:
        if self._syncs is None:
            self._syncs = region_syncs()
        return self._syncs

    def families(self) -> tuple[Family, ...]:
        endpoint = ENDPOINT_LABELS
        return (
            Family(
                "tlsposture_server_cert_not_after_timestamp_seconds",
                "When the endpoint's server certificate expires (notAfter), Unix time; "
                "absent when unknown.",
                endpoint,
                _endpoint_value("posture__server_cert_not_after", _seconds),
            ),
            Family(
                "tlsposture_ca_not_after_timestamp_seconds",
                "When the CA of the endpoint's certificate expires, Unix time; absent when "
                "unknown or when the provider names no CA.",
                endpoint,
                _endpoint_value("posture__ca_valid_till", _seconds),
            ),
            Family(
                "tlsposture_grade_info",
                "The endpoint's grade (A+ to F, ? without evidence) as a label; always 1.",
                (*endpoint, "grade"),
                _grades(lambda grade: ([grade], 1.0)),
            ),
            Family(
                "tlsposture_grade_score",
                "The endpoint's grade as a number: A+ 6, A 5, B 4, C 3, D 2, F 1, ? 0.",
                endpoint,
                _grades(lambda grade: ([], float(GRADE_SCORES.get(grade, 0)))),
            ),
            Family(
                "tlsposture_transport_enforced",
                "1 when the server refuses connections without TLS, 0 when it accepts them; "
                "absent when unknown.",
                endpoint,
                _endpoint_value("posture__transport_enforced", float),
            ),
            Family(
                "tlsposture_tls_version_accepted",
                "1 when a handshake with this protocol version succeeded, 0 when it was "
                "refused; absent when not tested.",
                (*endpoint, "version"),
                _tls_versions,
            ),
            Family(
                "tlsposture_findings_open",
                "1 for each open finding of the catalogue (id, severity) on the endpoint.",
                (*endpoint, "id", "severity"),
                _open_findings,
            ),
            Family(
                "tlsposture_last_check_timestamp_seconds",
                "When the endpoint was last checked, Unix time; absent when never checked.",
                endpoint,
                _endpoint_value("check_state__last_checked", _seconds),
            ),
            Family(
                "tlsposture_check_success",
                "1 when the endpoint's last check succeeded, 0 when it failed (unreachable, "
                "TLS or login failed); absent when never checked.",
                endpoint,
                _endpoint_value(
                    "check_state__status",
                    lambda status: float(status == Observation.Status.OK),
                    known="check_state__last_checked",
                ),
            ),
            Family(
                "tlsposture_last_sync_timestamp_seconds",
                "When the region of the account last synced successfully from the cloud "
                "API, Unix time; absent when it never did.",
                SYNC_LABELS,
                lambda: (
                    (s.labels, _seconds(s.last_ok)) for s in self._region_syncs() if s.last_ok
                ),
            ),
            Family(
                "tlsposture_sync_success",
                "1 when the latest sync of the region of the account succeeded, 0 when it "
                "failed or the region never synced.",
                SYNC_LABELS,
                lambda: ((s.labels, float(s.succeeded)) for s in self._region_syncs()),
            ),
        )

    def collect(self) -> Iterator[Metric]:
        for family in self.families():
            samples = iter(family.samples())
            first = True
            while True:
                chunk = list(islice(samples, self.chunk))
                if not chunk and not first:
                    break
                metric = GaugeMetricFamily(
                    family.name, family.documentation, labels=list(family.labels)
                )
                for labels, value in chunk:
                    metric.add_metric(labels, value)
                yield metric
                first = False
                if len(chunk) < self.chunk:
                    break
