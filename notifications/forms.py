"""The subscription form, shared by the self-service pages and the admin.

Lists and mappings are edited as plain text (one address per line, `key=value` tags,
`90, 30, 7`) so the pages need no JavaScript; cleaning turns them back into the stored
shapes and refuses what a digest could not use.
"""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import available_timezones

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from inventory.models import CloudAccount, Provider
from notifications.models import DigestSubscription
from notifications.recipients import refused_addresses, what_owner_may_address

_REGION = re.compile(r"^[a-z0-9-]+$")
_SEPARATORS = re.compile(r"[\s,;]+")
_WHOLE_NUMBER = re.compile(r"^[0-9]+$")
MAX_THRESHOLD_DAYS = 3650


@cache
def _time_zone_choices() -> list[tuple[str, str]]:
    return [(tz, tz) for tz in sorted(available_timezones())]


def _words(text: str) -> list[str]:
    return [w for w in _SEPARATORS.split(text.strip()) if w]


class DigestSubscriptionForm(forms.ModelForm):
    recipients = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="E-mail addresses, one per line."
    )
    providers = forms.MultipleChoiceField(
        choices=Provider.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every provider.",
    )
    accounts = forms.ModelMultipleChoiceField(
        queryset=CloudAccount.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every account.",
    )
    regions = forms.CharField(
        required=False, help_text="e.g. us-east-1 eu-west-1 cn-hangzhou. Empty: every region."
    )
    tags = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="key=value, one per line; an endpoint must carry all of them.",
    )
    thresholds_days = forms.CharField(
        label="Thresholds (days)",
        help_text="Warn when a certificate is this close to expiry, e.g. 90, 30, 7.",
    )
    time_zone = forms.ChoiceField(
        choices=_time_zone_choices,
        help_text="Daily digests go out after local midnight, weekly ones on Monday.",
    )

    class Meta:
        model = DigestSubscription
        fields = [
            "name",
            "recipients",
            "providers",
            "accounts",
            "regions",
            "tags",
            "thresholds_days",
            "cadence",
            "time_zone",
            "send_empty",
            "active",
        ]
        labels = {"send_empty": "Send even when there is nothing to report"}

    def __init__(self, *args, owner=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Whose rule the recipients follow (notifications/recipients.py): the user of the
        # self-service pages; in the admin, the owner chosen in the form.
        self.owner = owner
        if owner is not None and not owner.is_staff:
            self.fields["recipients"].help_text += " " + what_owner_may_address(owner)
        # The stored shapes, written the way the text fields take them back.
        as_text = {
            "regions": lambda v: " ".join(v),
            "tags": lambda v: "\n".join(f"{k}={val}" for k, val in sorted(v.items())),
            "thresholds_days": lambda v: ", ".join(str(d) for d in v),
        }
        for name, render in as_text.items():
            # A new subscription's defaults too (thresholds from settings), not only an
            # existing one's values: declared fields get no initial from the model.
            value = self.initial.setdefault(name, getattr(self.instance, name))
            if isinstance(value, list | dict):
                self.initial[name] = render(value)
        self.initial.setdefault("time_zone", self.instance.time_zone)

    def clean_recipients(self) -> str:
        addresses, seen = [], set()
        for address in _words(self.cleaned_data["recipients"]):
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError(f"“{address}” is not an e-mail address.") from None
            if address.lower() not in seen:
                seen.add(address.lower())
                addresses.append(address)
        if not addresses:
            raise ValidationError("At least one address is needed.")
        return "\n".join(addresses)

    def clean(self):
        cleaned = super().clean()
        owner = cleaned.get("owner") or self.owner or getattr(self.instance, "owner", None)
        recipients = cleaned.get("recipients")
        if owner is not None and recipients:
            refused = refused_addresses(owner, recipients.splitlines())
            if refused:
                self.add_error(
                    "recipients",
                    f"Not allowed: {', '.join(refused)}. {what_owner_may_address(owner)}",
                )
        return cleaned

    def clean_regions(self) -> list[str]:
        regions = _words(self.cleaned_data["regions"])
        bad = [r for r in regions if not _REGION.match(r)]
        if bad:
            raise ValidationError(f"Not a region name: {', '.join(bad)}")
        return sorted(set(regions))

    def clean_tags(self) -> dict[str, str]:
        tags = {}
        for line in self.cleaned_data["tags"].splitlines():
            if not line.strip():
                continue
            key, equals, value = line.partition("=")
            if not equals or not key.strip():
                raise ValidationError(f"“{line.strip()}” is not key=value.")
            tags[key.strip()] = value.strip()
        return tags

    def clean_thresholds_days(self) -> list[int]:
        days = set()
        for word in _words(self.cleaned_data["thresholds_days"]):
            if not _WHOLE_NUMBER.match(word) or not 0 < int(word) <= MAX_THRESHOLD_DAYS:
                raise ValidationError(
                    f"“{word}” is not a whole number of days from 1 to {MAX_THRESHOLD_DAYS}."
                )
            days.add(int(word))
        if not days:
            raise ValidationError("At least one threshold is needed.")
        return sorted(days, reverse=True)
