"""Expiry digest subscriptions and the log that makes each send happen once per period."""

from django.conf import settings
from django.db import models


def default_thresholds():
    return list(settings.TLSPOSTURE["EXPIRY_THRESHOLDS_DAYS"])


class DigestSubscription(models.Model):
    class Cadence(models.TextChoices):
        DAILY = "daily", "daily"
        WEEKLY = "weekly", "weekly"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_subscriptions"
    )
    name = models.CharField(max_length=200)
    recipients = models.TextField(blank=True, help_text="E-mail addresses, one per line.")
    # A chat or webhook target besides (or instead of) e-mail: its kind, and its URL, which
    # holds a secret: stored only encrypted (common/secret_box.py), never shown again
    # (notifications/channels.py).
    channel = models.CharField(
        max_length=16,
        blank=True,
        choices=[
            ("slack", "Slack"),
            ("teams", "Microsoft Teams"),
            ("webhook", "Webhook (JSON)"),
            ("apprise", "Apprise URL"),
        ],
    )
    channel_url_encrypted = models.TextField(blank=True, editable=False)
    providers = models.JSONField(default=list, blank=True, help_text="Empty: all providers.")
    accounts = models.ManyToManyField("inventory.CloudAccount", blank=True)
    regions = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=dict, blank=True, help_text='e.g. {"team": "payments"}')
    thresholds_days = models.JSONField(default=default_thresholds)
    cadence = models.CharField(max_length=8, choices=Cadence.choices, default=Cadence.DAILY)
    time_zone = models.CharField(max_length=64, default="UTC")
    send_empty = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Goes up whenever the set of recipients changes, whoever saves it; `recipients_added`
    # keeps, per address, the version that (last) added it. An unsubscribe link carries the
    # version it was made at, so a link from before its address was (re-)added has expired
    # (notifications/tokens.py), while the others' links keep working.
    recipients_version = models.PositiveIntegerField(default=1, editable=False)
    recipients_added = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        current = self._recipient_set()
        stored = getattr(self, "_stored_recipients", None)
        if self.pk is None:
            self.recipients_added = dict.fromkeys(sorted(current), self.recipients_version)
        elif stored is not None and stored != current:
            self.recipients_version += 1
            added = {a: v for a, v in self.recipients_added.items() if a in current}
            added.update(dict.fromkeys(sorted(current - stored), self.recipients_version))
            self.recipients_added = added
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "recipients_version", "recipients_added"}
        super().save(*args, **kwargs)
        self._stored_recipients = current

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        if "recipients" in field_names:  # a deferred field would cost a query each
            instance._stored_recipients = instance._recipient_set()
        return instance

    def _recipient_set(self) -> frozenset[str]:
        return frozenset(a.lower() for a in self.recipient_list())

    @property
    def has_channel(self) -> bool:
        return bool(self.channel and self.channel_url_encrypted)

    @property
    def channel_key(self) -> str:
        """How the send log names the chat or webhook target (it never holds the URL)."""
        return f"{self.channel}-target"

    def added_at(self, address: str) -> int:
        """The version that (last) added `address`; 1 for rows older than the record."""
        return int(self.recipients_added.get(address.strip().lower(), 1))

    def recipient_list(self) -> list[str]:
        """The addresses, in order, without blanks or repeats (compared case-insensitively)."""
        seen, addresses = set(), []
        for line in self.recipients.splitlines():
            address = line.strip()
            if address and address.lower() not in seen:
                seen.add(address.lower())
                addresses.append(address)
        return addresses


class DigestSendLog(models.Model):
    """Claimed before sending: the unique period key makes a second sender back off.

    A failed row (or a claim whose sender died) may be claimed again; `deliveries` remembers
    who already has the digest, so a retry sends only to the others.
    """

    class Status(models.TextChoices):
        CLAIMED = "claimed", "claimed"
        SENT = "sent", "sent"
        SKIPPED_EMPTY = "empty", "nothing to send"
        FAILED = "failed", "failed"

    subscription = models.ForeignKey(
        DigestSubscription, on_delete=models.CASCADE, related_name="send_log"
    )
    period = models.CharField(max_length=32, help_text="e.g. 2026-11-23 or 2026-W48")
    status = models.CharField(max_length=16, choices=Status.choices)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # {address or "<channel>-target": "sent" | "refused" | "failed"}; refused (5xx, or not
    # allowed) ones are not retried.
    deliveries = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-claimed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period"], name="digest_once_per_period"
            )
        ]

    def __str__(self):
        return f"{self.subscription_id} {self.period} {self.status}"
