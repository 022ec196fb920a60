"""Filters over database endpoints, read from the query string so the URL holds the state.

One filter set serves the instance list, its exports, the certificate and finding pages:
a link such as `/instances/?grade=F&account=prod-aws` means the same thing everywhere.
Invalid values are reported next to their field and that filter is left out.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from checker.models import Observation
from common.normalise import TLS_VERSIONS
from dashboard.display import grade_label
from inventory.models import CloudAccount, DBInstance, PendingAction, Provider
from posture.catalogue import FINDING_IDS
from posture.grades import EVERY_GRADE, NO_EVIDENCE, SEVERITIES
from posture.models import Finding

ANY = [("", "any")]
UNKNOWN = "unknown"
EXPIRY_WINDOWS = (7, 30, 90)
FAILED_CHECKS = tuple(s for s in Observation.Status.values if s != Observation.Status.OK)


def _choices(values) -> list[tuple[str, str]]:
    return ANY + [(v, v) for v in values]


class InstanceFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=255, label="Identifier or endpoint")
    provider = forms.ChoiceField(required=False, choices=ANY + Provider.choices)
    account = forms.ChoiceField(required=False)
    region = forms.ChoiceField(required=False)
    engine = forms.ChoiceField(required=False)
    engine_version = forms.ChoiceField(required=False, label="Engine version")
    kind = forms.ChoiceField(required=False, choices=ANY + DBInstance.Kind.choices)
    grade = forms.ChoiceField(
        required=False, choices=ANY + [(g, grade_label(g)) for g in EVERY_GRADE]
    )
    enforcement = forms.ChoiceField(
        required=False,
        label="Transport",
        choices=[
            *ANY,
            ("enforced", "enforced"),
            ("not-enforced", "not enforced"),
            (UNKNOWN, UNKNOWN),
        ],
    )
    lowest_tls = forms.ChoiceField(
        required=False, label="Lowest TLS accepted", choices=_choices((*TLS_VERSIONS, UNKNOWN))
    )
    cert_expires = forms.ChoiceField(required=False, label="Server certificate expires")
    ca_expires = forms.ChoiceField(required=False, label="CA expires")
    ca = forms.CharField(required=False, max_length=100, label="CA")
    finding = forms.ChoiceField(required=False, label="Open finding", choices=_choices(FINDING_IDS))
    severity = forms.ChoiceField(
        required=False, label="Open finding of severity", choices=_choices(SEVERITIES)
    )
    tag = forms.CharField(required=False, max_length=300, help_text="key=value")
    check = forms.ChoiceField(
        required=False,
        label="Last check",
        choices=[*ANY, ("ok", "ok"), ("failed", "failed"), ("never", "never checked")],
    )
    pending = forms.ChoiceField(
        required=False, label="Pending rotation", choices=[*ANY, ("yes", "pending")]
    )
    state = forms.ChoiceField(
        required=False,
        label="Endpoints",
        choices=[("", "current"), ("gone", "gone"), ("all", "current and gone")],
    )

    def __init__(self, data, *, choices: dict[str, list[str]]):
        super().__init__(data)
        windows = (
            [("expired", "already expired")]
            + [(str(d), f"within {d} days") for d in EXPIRY_WINDOWS]
            + [(UNKNOWN, UNKNOWN)]
        )
        self.fields["cert_expires"].choices = ANY + windows
        self.fields["ca_expires"].choices = ANY + windows
        for name in ("account", "region", "engine", "engine_version"):
            self.fields[name].choices = _choices(choices[name])

    def clean_tag(self):
        tag = self.cleaned_data["tag"].strip()
        if tag and ("=" not in tag or not tag.split("=", 1)[0].strip()):
            raise forms.ValidationError("Write a tag as key=value.")
        return tag


def filter_choices() -> dict[str, list[str]]:
    """The values the select boxes offer: three small queries, whatever the fleet size."""
    pairs = DBInstance.objects.order_by("engine", "engine_version").values_list(
        "engine", "engine_version"
    )
    pairs = list(pairs.distinct())
    return {
        "account": list(CloudAccount.objects.values_list("name", flat=True)),
        "region": list(
            DBInstance.objects.order_by("region").values_list("region", flat=True).distinct()
        ),
        "engine": sorted({engine for engine, _ in pairs}),
        "engine_version": sorted({version for _, version in pairs if version}),
    }


class InstanceFilterSet:
    """Parse the query string, then narrow a DBInstance queryset by every valid filter."""

    def __init__(self, data, *, choices: dict[str, list[str]] | None = None):
        self.form = InstanceFilterForm(data, choices=choices or filter_choices())
        self.form.is_valid()
        self.values = {
            name: value for name, value in self.form.cleaned_data.items() if value not in ("", None)
        }

    @property
    def is_filtered(self) -> bool:
        return bool(self.values)

    def active(self) -> list[tuple[str, str]]:
        """(label, shown value) of each filter in force, for the "filtered by" line."""
        shown = []
        for name, value in self.values.items():
            field = self.form.fields[name]
            label = dict(getattr(field, "choices", ())).get(value, value)
            shown.append((str(field.label or name.replace("_", " ")), str(label)))
        return shown

    def queryset(self, base: QuerySet[DBInstance] | None = None) -> QuerySet[DBInstance]:
        instances = base if base is not None else DBInstance.objects.all()
        values = self.values
        state = values.get("state")
        if state == "gone":
            instances = instances.filter(gone_at__isnull=False)
        elif state != "all":
            instances = instances.filter(gone_at__isnull=True)
        if "q" in values:
            text = values["q"]
            instances = instances.filter(
                Q(identifier__icontains=text) | Q(endpoint_host__icontains=text)
            )
        for name, lookup in (
            ("provider", "provider"),
            ("account", "account__name"),
            ("region", "region"),
            ("engine", "engine"),
            ("engine_version", "engine_version"),
            ("kind", "kind"),
            ("ca", "ca_identifier"),
        ):
            if name in values:
                instances = instances.filter(**{lookup: values[name]})
        now = timezone.now()
        for name, method in (
            ("grade", _grade),
            ("enforcement", _enforcement),
            ("lowest_tls", _lowest_tls),
            ("finding", _finding),
            ("severity", _severity),
            ("tag", _tag),
            ("check", _check),
            ("pending", _pending),
        ):
            if name in values:
                instances = method(instances, values[name])
        if "cert_expires" in values:
            instances = _expiry(
                instances, "posture__server_cert_not_after", values["cert_expires"], now
            )
        if "ca_expires" in values:
            instances = _expiry(instances, "posture__ca_valid_till", values["ca_expires"], now)
            if values["ca_expires"] == UNKNOWN:
                # As on the overview: endpoints that name no CA (ApsaraDB, RDS Proxy) have
                # none to be unknown.
                instances = instances.exclude(ca_identifier="")
        return instances


def _grade(instances, grade):
    if grade == NO_EVIDENCE:
        return instances.filter(Q(posture__isnull=True) | Q(posture__grade=NO_EVIDENCE))
    return instances.filter(posture__grade=grade)


def _enforcement(instances, value):
    if value == UNKNOWN:
        return instances.filter(posture__transport_enforced__isnull=True)
    return instances.filter(posture__transport_enforced=(value == "enforced"))


def _lowest_tls(instances, value):
    if value == UNKNOWN:
        return instances.filter(Q(posture__isnull=True) | Q(posture__lowest_tls_accepted=""))
    return instances.filter(posture__lowest_tls_accepted=value)


def _open_finding(**lookups):
    return Exists(
        Finding.objects.filter(instance=OuterRef("pk"), resolved_at__isnull=True, **lookups)
    )


def _finding(instances, finding_id):
    return instances.filter(_open_finding(finding_id=finding_id))


def _severity(instances, severity):
    return instances.filter(_open_finding(severity=severity))


def _tag(instances, tag):
    key, value = (part.strip() for part in tag.split("=", 1))
    # Keys such as "aws:cloudformation:stack" are taken whole (no JSON path), compared as text.
    text = Cast(KeyTextTransform(key, "tags"), output_field=TextField())
    return instances.alias(tag_value=text).filter(tag_value=value)


def _check(instances, value):
    if value == "never":
        return instances.filter(
            Q(check_state__isnull=True) | Q(check_state__last_checked__isnull=True)
        )
    if value == "failed":
        return instances.filter(check_state__status__in=FAILED_CHECKS)
    return instances.filter(check_state__status=value)


def _pending(instances, value):
    return instances.filter(Exists(PendingAction.objects.filter(instance=OuterRef("pk"))))


def _expiry(instances, field, window, now):
    if window == UNKNOWN:
        return instances.filter(**{f"{field}__isnull": True})
    if window == "expired":
        return instances.filter(**{f"{field}__lte": now})
    days = int(window)
    return instances.filter(**{f"{field}__gt": now, f"{field}__lte": now + timedelta(days=days)})
