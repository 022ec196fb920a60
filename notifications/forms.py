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

from common import secret_box
from inventory.models import CloudAccount, Provider
from notifications import channels
from notifications.models import DigestSubscription
from notifications.recipients import refused_addresses, what_owner_may_address
from posture.visibility import visible_to

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
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="E-mail addresses, one per line (none: only the chat or webhook target).",
    )
    channel = forms.ChoiceField(
        label="Chat or webhook target",
        required=False,
        choices=[("", "none: e-mail only"), *channels.KINDS.items()],
    )
    # Write-only: a stored URL is never put back into the page (it holds the secret).
    channel_url = forms.CharField(
        label="Target URL",
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    clear_channel_url = forms.BooleanField(
        label="Remove the chat or webhook target", required=False
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
            "channel",
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

    # The admin shows the target read-only: its URL is set on the owner's own page.
    edits_channel = True

    def __init__(self, *args, owner=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Whose rule the recipients follow (notifications/recipients.py): the user of the
        # self-service pages; in the admin, the owner chosen in the form.
        self.owner = owner
        if owner is not None:
            # Only the accounts the owner may see are offered (and accepted).
            accounts = self.fields["accounts"]
            accounts.queryset = visible_to(owner).accounts.order_by("name")
        if owner is not None and not owner.is_staff:
            self.fields["recipients"].help_text += " " + what_owner_may_address(owner)
        if not self.edits_channel:
            for name in ("channel", "channel_url", "clear_channel_url"):
                self.fields.pop(name, None)
        else:
            self._describe_channel_url(owner)
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

    def _describe_channel_url(self, owner) -> None:
        url = self.fields["channel_url"]
        if self.instance.has_channel:
            url.help_text = (
                f"Set — replace? A {self.instance.get_channel_display()} URL is stored "
                "(encrypted, never shown again): leave this empty to keep it, or enter a new "
                "one to replace it."
            )
        else:
            del self.fields["clear_channel_url"]
            url.help_text = "The URL holds a secret: it is stored encrypted and never shown again."
        if owner is not None:
            url.help_text += " " + channels.what_owner_may_target(owner)

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
        has_channel = (
            self._clean_channel(owner) if self.edits_channel else self.instance.has_channel
        )
        if "recipients" in cleaned and not recipients and not has_channel:
            self.add_error("recipients", "Add an e-mail address or a chat or webhook target.")
        return cleaned

    def _clean_channel(self, owner) -> bool:
        """Check the target; remember a new URL to encrypt on save. Whether one remains."""
        cleaned = self.cleaned_data
        kind = cleaned.get("channel", "")
        url = (cleaned.get("channel_url") or "").strip()
        self._new_channel_url = None
        if cleaned.get("clear_channel_url") or not kind:
            if url:
                self.add_error("channel_url", "Choose the kind of target for this URL.")
            cleaned["channel"] = ""
            return False
        if not url:
            if self.instance.has_channel and kind == self.instance.channel:
                return True  # the stored URL stays
            self.add_error("channel_url", "Enter the URL of the target.")
            return False
        problem = channels.url_problem(kind, url)
        if problem:
            self.add_error("channel_url", problem)
            return False
        if owner is not None and not channels.may_target(owner, kind, url):
            self.add_error("channel_url", f"Not allowed. {channels.what_owner_may_target(owner)}")
            return False
        self._new_channel_url = url
        return True

    def save(self, commit=True):
        subscription = super().save(commit=False)
        if self.edits_channel:
            new_url = getattr(self, "_new_channel_url", None)
            if not subscription.channel:
                subscription.channel_url_encrypted = ""
            elif new_url:
                subscription.channel_url_encrypted = secret_box.encrypt(new_url)
        if commit:
            subscription.save()
            self.save_m2m()
        return subscription

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
