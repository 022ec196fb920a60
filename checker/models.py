"""What the checker saw: runs, per-target observations, and how to reach each target."""

from django.db import models

from checker.evidence import EVIDENCE_SCHEMA_VERSION
from inventory.models import DBInstance


class CheckerProfile(models.Model):
    """How to check the endpoints matching a glob over "account/identifier" (first match wins).

    The password is stored only encrypted (Fernet keys from TLSPOSTURE_SECRET_KEYS), or
    referenced by environment variable or AWS Secrets Manager ARN, or replaced by an IAM token.
    """

    name = models.CharField(max_length=200, unique=True, help_text="Key used by imports.")
    match = models.CharField(max_length=300, help_text='Glob over "account/identifier".')
    position = models.PositiveIntegerField(default=0, help_text="Lower is tried first.")
    username = models.CharField(max_length=100, blank=True)
    password_encrypted = models.TextField(blank=True, editable=False)
    password_env = models.CharField(max_length=100, blank=True)
    secrets_manager_arn = models.CharField(max_length=300, blank=True)
    iam_auth = models.BooleanField(default=False)
    ca_bundle = models.CharField(max_length=500, blank=True)
    connect_host = models.CharField(max_length=255, blank=True)
    connect_port = models.PositiveIntegerField(null=True, blank=True)
    # Opt-in plaintext-login canary (docs/design.md "Checker rules" 3): a dedicated account only.
    canary_username = models.CharField(max_length=100, blank=True)
    canary_password_env = models.CharField(max_length=100, blank=True)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return f"{self.name} ({self.match})"


class CheckRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=32, default="command")
    network_zone = models.CharField(max_length=100, blank=True)
    # The Celery task that ran it: a redelivered task closes the run its lost worker left.
    task_id = models.CharField(max_length=64, blank=True, db_index=True)
    targets = models.PositiveIntegerField(default=0)
    ok = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    workers = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self):
        return f"check run {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class Observation(models.Model):
    """What one check of one endpoint showed. `evidence` is versioned JSON (see evidence.py)."""

    class Status(models.TextChoices):
        OK = "ok", "ok"
        UNREACHABLE = "unreachable", "unreachable"
        TLS_FAILED = "tls-failed", "TLS failed"
        AUTH_FAILED = "auth-failed", "authentication failed"

    run = models.ForeignKey(
        CheckRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="observations"
    )
    instance = models.ForeignKey(DBInstance, on_delete=models.CASCADE, related_name="observations")
    checked_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices)
    reason = models.TextField(blank=True)
    dialed = models.CharField(max_length=300, blank=True, help_text="host:port actually dialed")
    verified_name = models.CharField(max_length=255, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    schema_version = models.PositiveSmallIntegerField(default=EVIDENCE_SCHEMA_VERSION)
    evidence = models.JSONField(default=dict)

    class Meta:
        ordering = ["-checked_at"]
        get_latest_by = "checked_at"
        indexes = [models.Index(fields=["instance", "-checked_at"])]

    def __str__(self):
        return f"{self.instance_id} {self.checked_at:%Y-%m-%d %H:%M} {self.status}"


class TargetState(models.Model):
    """The latest observation of each endpoint, so lists never scan observation history."""

    instance = models.OneToOneField(
        DBInstance, on_delete=models.CASCADE, primary_key=True, related_name="check_state"
    )
    latest = models.ForeignKey(Observation, null=True, on_delete=models.SET_NULL, related_name="+")
    last_checked = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Observation.Status.choices, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.instance_id}: {self.status or 'never'}"


class ClientSighting(models.Model):
    """A client (account@host) seen connected to an endpoint, per TLS version ("" = no TLS).

    Written by checker/client_evidence.py from each check's performance_schema readout and
    kept while `last_seen` is within TLSPOSTURE_CLIENT_WINDOW_DAYS.
    """

    instance = models.ForeignKey(
        DBInstance, on_delete=models.CASCADE, related_name="client_sightings"
    )
    user = models.CharField(max_length=100)
    host = models.CharField(max_length=255)
    tls_version = models.CharField(max_length=16, blank=True, help_text='"" = without TLS')
    tls_cipher = models.CharField(max_length=100, blank=True)
    connections = models.PositiveIntegerField(default=0, help_text="distinct connections seen")
    checks = models.PositiveIntegerField(default=0, help_text="checks that saw it connected")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    # The connections seen by the latest check: one that stays open counts once.
    connection_ids = models.JSONField(default=list)

    class Meta:
        ordering = ["user", "host", "tls_version"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "user", "host", "tls_version"], name="one_sighting_per_client"
            )
        ]
        indexes = [models.Index(fields=["instance", "last_seen"])]

    def __str__(self):
        return f"{self.user}@{self.host} {self.tls_version or 'no TLS'}"


class ClientReadout(models.Model):
    """What one check learned about an endpoint's clients: named (performance_schema),
    counted (global counters since the previous readout), or why neither."""

    instance = models.ForeignKey(
        DBInstance, on_delete=models.CASCADE, related_name="client_readouts"
    )
    observation = models.ForeignKey(
        Observation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField()
    state = models.CharField(max_length=16, help_text="ok | off | no-privilege | error")
    reason = models.TextField(blank=True)
    # Counted since the previous readout (None: no previous one, or the server restarted).
    counted_connections = models.IntegerField(null=True, blank=True)
    counted_without_tls = models.IntegerField(null=True, blank=True)
    counters = models.JSONField(default=dict)

    class Meta:
        ordering = ["-checked_at"]
        indexes = [models.Index(fields=["instance", "-checked_at"])]

    def __str__(self):
        return f"{self.instance_id} {self.checked_at:%Y-%m-%d %H:%M} clients {self.state}"

    @property
    def named(self) -> bool:
        return self.state == "ok"
