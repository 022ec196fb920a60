"""Filters over endpoints and their findings, read from the query string so the URL holds the
state (django-filter, one line per filter, as NetBox's filtersets).

One filter set serves the instance list, its exports, the certificate and finding pages:
a link such as `/instances/?grade=F&account=prod-aws` means the same thing everywhere.
Invalid values are reported next to their field and that filter is left out.
"""

from __future__ import annotations

from datetime import timedelta

import django_filters as filters
from django import forms
from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import QueryDict
from django.utils import timezone

from checker.models import Observation
from common.normalise import TLS_VERSIONS
from dashboard.display import grade_label
from inventory.models import DBInstance, PendingAction, Provider
from posture.catalogue import FINDING_IDS
from posture.finding_report import in_report_order
from posture.grades import EVERY_GRADE, NO_EVIDENCE, SEVERITIES
from posture.models import Finding
from posture.visibility import Visible, request_visible

ANY = "any"
UNKNOWN = "unknown"
EXPIRY_WINDOWS = (7, 30, 90)
FAILED_CHECKS = tuple(s for s in Observation.Status.values if s != Observation.Status.OK)
# Checks that could not do their job (no answer, timeout, the checker's own login failed). A
# TLS verification failure is not one of them: it is the endpoint's posture, shown as findings.
COULD_NOT_RUN = (Observation.Status.UNREACHABLE, Observation.Status.AUTH_FAILED)

GRADE_CHOICES = [(grade, grade_label(grade)) for grade in EVERY_GRADE]
ENFORCEMENT = [("enforced", "enforced"), ("not-enforced", "not enforced"), (UNKNOWN, UNKNOWN)]
LOWEST_TLS = [(v, v) for v in (*TLS_VERSIONS, UNKNOWN)]
# Would the change break a client seen within TLSPOSTURE_CLIENT_WINDOW_DAYS?
READINESS = [
    ("ready", "ready"),
    ("not-ready", "not ready"),
    (UNKNOWN, UNKNOWN),
    ("done", "already done"),
]
EXPIRY = [
    ("expired", "already expired"),
    *((str(days), f"≤ {days} days") for days in EXPIRY_WINDOWS),
    (UNKNOWN, UNKNOWN),
]
CHECKS = [
    ("ok", "ok"),
    ("failed", "failed"),
    ("could-not-run", "could not run"),
    ("never", "never checked"),
]
STATES = [("gone", "gone"), ("all", "current and gone")]
FINDINGS = [(finding_id, finding_id) for finding_id in FINDING_IDS]
SEVERITY = [(severity, severity) for severity in SEVERITIES]
# Filled from the fleet when a filter set is made (filter_choices): three small queries.
FROM_THE_FLEET = ("account", "region", "engine", "engine_version")


def choice(label: str, choices=None, *, empty_label: str = ANY, **options) -> filters.ChoiceFilter:
    """A select box; without `choices` they are set when the filter set is made."""
    if choices is not None:
        options["choices"] = choices
    return filters.ChoiceFilter(label=label, empty_label=empty_label, **options)


def text(label: str, **options) -> filters.CharFilter:
    return filters.CharFilter(label=label, **options)


class InstanceFilterForm(forms.Form):
    def clean_tag(self):
        tag = self.cleaned_data["tag"].strip()
        if tag and ("=" not in tag or not tag.split("=", 1)[0].strip()):
            raise forms.ValidationError("Write a tag as key=value.")
        return tag


def filter_choices(visible: Visible) -> dict[str, list[str]]:
    """The values the select boxes offer, from what the user may see (another team's
    account names are not offered): three small queries, whatever the fleet size."""
    instances = visible.instances
    pairs = instances.order_by("engine", "engine_version").values_list("engine", "engine_version")
    pairs = list(pairs.distinct())
    return {
        "account": list(visible.accounts.values_list("name", flat=True)),
        "region": list(instances.order_by("region").values_list("region", flat=True).distinct()),
        "engine": sorted({engine for engine, _ in pairs}),
        "engine_version": sorted({version for _, version in pairs if version}),
    }


class InstanceFilterSet(filters.FilterSet):
    """Narrows DBInstance by every valid filter of the query string (`.qs`)."""

    q = text("Identifier or endpoint", method="search", max_length=255)
    provider = choice("Provider", Provider.choices)
    account = choice("Account", field_name="account__name")
    region = choice("Region")
    engine = choice("Engine")
    engine_version = choice("Engine version")
    kind = choice("Kind", DBInstance.Kind.choices)
    grade = choice("Grade", GRADE_CHOICES, method="by_grade")
    enforcement = choice("Transport", ENFORCEMENT, method="by_enforcement")
    lowest_tls = choice("Lowest TLS accepted", LOWEST_TLS, method="by_lowest_tls")
    enforce_tls = choice("Ready to enforce TLS", READINESS, method="by_readiness")
    drop_legacy_tls = choice("Ready to drop TLS 1.0/1.1", READINESS, method="by_readiness")
    cert_expires = choice("Server certificate expires", EXPIRY, method="by_expiry")
    ca_expires = choice("CA expires", EXPIRY, method="by_expiry")
    ca = text("CA", field_name="ca_identifier", max_length=100)
    finding = choice("Open finding", FINDINGS, method="by_open_finding")
    severity = choice("Open finding of severity", SEVERITY, method="by_open_finding")
    tag = text("Tag", method="by_tag", max_length=300, help_text="key=value")
    environment = text(
        "Environment", method="by_environment", max_length=255, help_text="prod, staging …"
    )
    check = choice("Last check", CHECKS, method="by_check")
    pending = choice("Pending rotation", [("yes", "pending")], method="by_pending")
    # Without a value only current endpoints show (filter_queryset).
    state = choice("Endpoints", STATES, method="by_state", empty_label="current")

    class Meta:
        model = DBInstance
        fields: list[str] = []
        form = InstanceFilterForm

    def __init__(self, data, queryset: QuerySet[DBInstance], *, choices: dict[str, list[str]]):
        # No default queryset: every caller says which endpoints the user may see
        # (posture.visibility), so a filter set never reads the whole table by accident.
        super().__init__(data, queryset)
        offered = choices
        for name in FROM_THE_FLEET:
            self.filters[name].extra["choices"] = [(value, value) for value in offered[name]]
        self.now = timezone.now()

    @property
    def values(self) -> dict:
        """The valid filters in force, {name: value}."""
        self.form.is_valid()
        return {k: v for k, v in self.form.cleaned_data.items() if v not in ("", None)}

    @property
    def is_filtered(self) -> bool:
        return bool(self.values)

    # Shown at once; the rest sit behind "more filters" (opened when one of them is in force).
    PRIMARY = ("q", "account", "grade", "severity", "cert_expires")

    @property
    def primary_fields(self):
        return [self.form[name] for name in self.PRIMARY if name in self.form.fields]

    @property
    def more_fields(self):
        return [self.form[name] for name in self.form.fields if name not in self.PRIMARY]

    @property
    def more_in_force(self) -> int:
        return sum(1 for name in self.values if name not in self.PRIMARY)

    def active(self) -> list[tuple[str, str]]:
        """(label, shown value) of each filter in force, for the "filtered by" line."""
        shown = []
        for name, value in self.values.items():
            field = self.form.fields[name]
            label = dict(getattr(field, "choices", ())).get(value, value)
            shown.append((str(field.label), str(label)))
        return shown

    def filter_queryset(self, queryset):
        if not self.values.get("state"):
            queryset = queryset.filter(gone_at__isnull=True)
        return super().filter_queryset(queryset)

    # ---- the filters that are more than a lookup ------------------------------------------

    def search(self, instances, name, text):
        return instances.filter(Q(identifier__icontains=text) | Q(endpoint_host__icontains=text))

    def by_state(self, instances, name, state):
        if state == "gone":
            return instances.filter(gone_at__isnull=False)
        return instances  # "all"

    def by_grade(self, instances, name, grade):
        if grade == NO_EVIDENCE:
            return instances.filter(Q(posture__isnull=True) | Q(posture__grade=NO_EVIDENCE))
        return instances.filter(posture__grade=grade)

    def by_enforcement(self, instances, name, value):
        if value == UNKNOWN:
            return instances.filter(posture__transport_enforced__isnull=True)
        return instances.filter(posture__transport_enforced=(value == "enforced"))

    def by_readiness(self, instances, name, value):
        field = f"posture__{name}_readiness"
        if value == UNKNOWN:  # never evaluated counts as unknown
            return instances.filter(
                Q(posture__isnull=True) | Q(**{field: UNKNOWN}) | Q(**{field: ""})
            )
        return instances.filter(**{field: value})

    def by_lowest_tls(self, instances, name, value):
        if value == UNKNOWN:
            return instances.filter(Q(posture__isnull=True) | Q(posture__lowest_tls_accepted=""))
        return instances.filter(posture__lowest_tls_accepted=value)

    def by_open_finding(self, instances, name, value):
        lookup = {"finding": "finding_id", "severity": "severity"}[name]
        open_finding = Finding.objects.filter(
            instance=OuterRef("pk"), resolved_at__isnull=True, **{lookup: value}
        )
        return instances.filter(Exists(open_finding))

    def by_tag(self, instances, name, tag):
        key, value = (part.strip() for part in tag.split("=", 1))
        # Keys such as "aws:cloudformation:stack" are taken whole (no JSON path), as text.
        text = Cast(KeyTextTransform(key, "tags"), output_field=TextField())
        return instances.alias(tag_value=text).filter(tag_value=value)

    def by_environment(self, instances, name, value):
        # The value of the tag TLSPOSTURE["ENVIRONMENT_TAG"] names (docs/design.md).
        tag = settings.TLSPOSTURE.get("ENVIRONMENT_TAG", "")
        return self.by_tag(instances, name, f"{tag}={value}") if tag else instances.none()

    def by_check(self, instances, name, value):
        if value == "never":
            return instances.filter(
                Q(check_state__isnull=True) | Q(check_state__last_checked__isnull=True)
            )
        if value == "failed":
            return instances.filter(check_state__status__in=FAILED_CHECKS)
        if value == "could-not-run":
            return instances.filter(check_state__status__in=COULD_NOT_RUN)
        return instances.filter(check_state__status=value)

    def by_pending(self, instances, name, value):
        return instances.filter(Exists(PendingAction.objects.filter(instance=OuterRef("pk"))))

    def by_expiry(self, instances, name, window):
        field = {"cert_expires": "server_cert_not_after", "ca_expires": "ca_valid_till"}[name]
        field = f"posture__{field}"
        if window == UNKNOWN:
            instances = instances.filter(**{f"{field}__isnull": True})
            if name == "ca_expires":
                # As on the overview: endpoints that name no CA (ApsaraDB, RDS Proxy) have
                # none to be unknown.
                instances = instances.exclude(ca_identifier="")
            return instances
        if window == "expired":
            return instances.filter(**{f"{field}__lte": self.now})
        until = self.now + timedelta(days=int(window))
        return instances.filter(**{f"{field}__gt": self.now, f"{field}__lte": until})


class FindingFilterSet(filters.FilterSet):
    """Open findings of the endpoints an InstanceFilterSet selects, by id and severity, in
    report order (the findings exports)."""

    finding = choice("Open finding", FINDINGS, field_name="finding_id")
    severity = choice("Open finding of severity", SEVERITY)

    class Meta:
        model = Finding
        fields: list[str] = []

    def __init__(self, data, *, instances: InstanceFilterSet):
        super().__init__(data, Finding.objects.filter(resolved_at__isnull=True))
        self.instances = instances  # the visible endpoints, filtered: findings follow them

    def filter_queryset(self, queryset):
        queryset = queryset.filter(instance__in=self.instances.qs.order_by().values("pk"))
        return in_report_order(super().filter_queryset(queryset))


def instance_filters(request, params: QueryDict | None = None) -> InstanceFilterSet:
    """The query string's filters (or `params`: a saved view's) over the endpoints the user
    may see."""
    visible = request_visible(request)
    data = request.GET if params is None else params
    return InstanceFilterSet(data, visible.instances, choices=filter_choices(visible))
