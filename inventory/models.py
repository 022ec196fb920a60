"""What the cloud APIs say: accounts, database endpoints, TLS parameters, CAs, sync runs.

Only inventory/services.py writes these models.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from common.queues import validate_zone_name
from inventory.api_transport import api_transport_problems


def validate_account_pattern(pattern: str) -> None:
    if not pattern.strip() or pattern != pattern.strip():
        raise ValidationError("An account name or glob, without surrounding spaces.")


class Provider(models.TextChoices):
    AWS = "aws", "AWS"
    ALIYUN = "aliyun", "Alibaba Cloud"


class CloudAccount(models.Model):
    """One cloud account (AWS account / Alibaba account) and how to reach its API."""

    class Protocol(models.TextChoices):
        HTTPS = "https", "https"
        HTTP = "http", "http (local test servers only)"

    name = models.CharField(max_length=100, unique=True, help_text="Stable key used by imports.")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    regions = models.JSONField(
        default=list, blank=True, help_text="Regions to sync; empty means discover them."
    )
    role_arn = models.CharField(
        max_length=300, blank=True, help_text="AWS IAM role (STS) or Alibaba RAM role to assume."
    )
    endpoint_url = models.CharField(
        max_length=300, blank=True, help_text="AWS API endpoint override (VPC endpoint, test)."
    )
    endpoint = models.CharField(
        max_length=300, blank=True, help_text="Alibaba API endpoint override, host:port."
    )
    protocol = models.CharField(max_length=8, choices=Protocol.choices, default=Protocol.HTTPS)
    access_key_id_env = models.CharField(
        max_length=100, blank=True, help_text="Name of the variable holding the AccessKey id."
    )
    access_key_secret_env = models.CharField(
        max_length=100, blank=True, help_text="Name of the variable holding the AccessKey secret."
    )
    security_token_env = models.CharField(
        max_length=100, blank=True, help_text="Name of the variable holding an STS token."
    )
    network_zone = models.CharField(
        max_length=100,
        default="default",
        validators=[validate_zone_name],
        help_text="Sync and checks run on workers of this zone (queue zone.<name>).",
    )
    ca_bundle = models.CharField(
        max_length=500, blank=True, help_text="Trust bundle (PEM path) for this account."
    )
    proxy_ca_bundle = models.CharField(
        max_length=500,
        blank=True,
        help_text="Trust bundle (PEM path) for this account's RDS Proxy endpoints, whose "
        "certificates chain to the Amazon Trust Services roots, not to the RDS CAs.",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.get_provider_display()})"

    def clean(self):
        problems = api_transport_problems(self)
        if problems:
            raise ValidationError(problems)


class DBInstance(models.Model):
    """A database endpoint: an instance, an Aurora cluster or an RDS Proxy."""

    class Kind(models.TextChoices):
        INSTANCE = "instance", "DB instance"
        CLUSTER = "cluster", "Aurora cluster"
        PROXY = "proxy", "RDS Proxy"

    account = models.ForeignKey(CloudAccount, on_delete=models.CASCADE, related_name="instances")
    provider = models.CharField(max_length=16, choices=Provider.choices, db_index=True)
    region = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INSTANCE)
    identifier = models.CharField(max_length=255)
    # Globally unique key from the provider: the ARN on AWS, the DBInstanceId on Alibaba.
    resource_id = models.CharField(max_length=500)
    engine = models.CharField(max_length=32, db_index=True)
    engine_version = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=64, blank=True)
    role = models.CharField(
        max_length=32, blank=True, help_text="writer, reader, replica, primary, read-only …"
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        help_text="Aurora cluster of a member instance; primary of a read-only replica.",
    )
    proxy_targets = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="proxies"
    )

    # The canonical endpoint is what the checker verifies; the override is only where it dials.
    endpoint_host = models.CharField(max_length=255, blank=True)
    endpoint_port = models.PositiveIntegerField(null=True, blank=True)
    reader_endpoint_host = models.CharField(max_length=255, blank=True)
    connect_host = models.CharField(
        max_length=255, blank=True, help_text="Dial this address instead (tunnel, bastion, test)."
    )
    connect_port = models.PositiveIntegerField(null=True, blank=True)

    parameter_group = models.CharField(max_length=255, blank=True)
    parameter_group_is_default = models.BooleanField(null=True)
    parameter_apply_status = models.CharField(max_length=64, blank=True)

    # CA of the instance (AWS CACertificateIdentifier) and the server certificate's expiry.
    ca_identifier = models.CharField(max_length=100, blank=True)
    ca = models.ForeignKey(
        "CACertificate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="instances",
    )
    ca_lookup_error = models.TextField(blank=True, help_text="Why the CA is unknown, if it is.")
    pending_ca_identifier = models.CharField(max_length=100, blank=True)
    server_cert_not_after = models.DateTimeField(null=True, blank=True)
    server_cert_source = models.CharField(max_length=64, blank=True)

    publicly_accessible = models.BooleanField(null=True)
    iam_auth_enabled = models.BooleanField(null=True)
    proxy_require_tls = models.BooleanField(null=True)

    # ApsaraDB: enabled and enforced are two facts, never merged.
    ssl_enabled = models.BooleanField(null=True)
    ssl_forced = models.BooleanField(null=True)
    ssl_endpoint = models.CharField(
        max_length=255, blank=True, help_text="The one connection string SSL protects."
    )
    ssl_ca_type = models.CharField(max_length=32, blank=True)

    tags = models.JSONField(default=dict, blank=True)
    # Provider details that are shown but not evaluated (kernel version, category, …).
    details = models.JSONField(default=dict, blank=True)
    # Facts that could not be looked up, as {"what": "reason"}: shown as unknown, never as ok.
    lookup_errors = models.JSONField(default=dict, blank=True)

    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    gone_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when a complete listing no longer had it."
    )

    class Meta:
        ordering = ["account__name", "region", "identifier"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "resource_id"], name="dbinstance_unique_resource"
            )
        ]
        indexes = [
            models.Index(fields=["account", "region"]),
            models.Index(fields=["identifier"]),
            models.Index(fields=["gone_at"]),
        ]

    def __str__(self):
        return f"{self.account.name}/{self.identifier}"

    @property
    def dial_host(self) -> str:
        return self.connect_host or self.endpoint_host

    @property
    def dial_port(self) -> int | None:
        return self.connect_port or self.endpoint_port

    @property
    def endpoint(self) -> str:
        if not self.endpoint_host:
            return ""
        return f"{self.endpoint_host}:{self.endpoint_port}" if self.endpoint_port else ""


class TLSParameter(models.Model):
    """One TLS parameter of an endpoint as the API states it, with where it came from."""

    class Source(models.TextChoices):
        PARAMETER_GROUP = "api:parameter-group", "parameter group"
        CLUSTER_PARAMETER_GROUP = "api:cluster-parameter-group", "cluster parameter group"
        ENGINE_DEFAULT = "api:engine-default", "engine default"
        APSARADB = "api:apsaradb-parameters", "ApsaraDB running parameters"

    instance = models.ForeignKey(
        DBInstance, on_delete=models.CASCADE, related_name="tls_parameters"
    )
    name = models.CharField(max_length=64)
    # None (no value stated: the default applies) differs from an empty string.
    raw_value = models.TextField(null=True, blank=True)  # noqa: DJ001
    normalised_value = models.JSONField(null=True, blank=True)
    source = models.CharField(max_length=40, choices=Source.choices)
    source_name = models.CharField(max_length=255, blank=True, help_text="Group name.")
    # AWS Parameter.Source: user | system | engine-default; config.drift needs "user".
    set_by = models.CharField(max_length=32, blank=True)
    apply_type = models.CharField(max_length=16, blank=True)
    apply_status = models.CharField(max_length=64, blank=True)
    is_modifiable = models.BooleanField(null=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["instance", "name"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "name"], name="tlsparameter_unique_name")
        ]

    def __str__(self):
        return f"{self.name}={self.raw_value!r} ({self.source})"


class CACertificate(models.Model):
    """A certificate authority offered by the provider in one region."""

    account = models.ForeignKey(CloudAccount, on_delete=models.CASCADE, related_name="cas")
    region = models.CharField(max_length=64)
    identifier = models.CharField(max_length=100)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_till = models.DateTimeField(null=True, blank=True)
    thumbprint = models.CharField(max_length=128, blank=True)
    key_algorithm = models.CharField(max_length=64, blank=True)
    customer_override = models.BooleanField(default=False)
    customer_override_valid_till = models.DateTimeField(null=True, blank=True)
    default_for_new_launches = models.BooleanField(default=False)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ["valid_till", "identifier"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "region", "identifier"], name="cacertificate_unique"
            )
        ]

    def __str__(self):
        return f"{self.identifier} ({self.region})"


class PendingAction(models.Model):
    """A pending CA rotation or certificate renewal, with its dates."""

    class Action(models.TextChoices):
        CA_ROTATION = "ca-certificate-rotation", "CA certificate rotation"
        CA_CHANGE = "ca-change", "pending CA change"
        SSL_RENEWAL = "ssl-certificate-renewal", "SSL certificate renewal required"

    instance = models.ForeignKey(
        DBInstance, on_delete=models.CASCADE, related_name="pending_actions"
    )
    action = models.CharField(max_length=64, choices=Action.choices)
    description = models.TextField(blank=True)
    auto_applied_after = models.DateTimeField(null=True, blank=True)
    forced_apply_date = models.DateTimeField(null=True, blank=True)
    current_apply_date = models.DateTimeField(null=True, blank=True)
    opt_in_status = models.CharField(max_length=64, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ["current_apply_date", "forced_apply_date"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "action"], name="pendingaction_unique")
        ]

    def __str__(self):
        return f"{self.action} on {self.instance_id}"

    @property
    def due(self):
        """The earliest date the action will happen on its own."""
        dates = [
            d
            for d in (self.current_apply_date, self.auto_applied_after, self.forced_apply_date)
            if d
        ]
        return min(dates) if dates else None


class SyncRun(models.Model):
    """One sync of one account; per-region outcomes in SyncRegion."""

    class Status(models.TextChoices):
        RUNNING = "running", "running"
        OK = "ok", "ok"
        PARTIAL = "partial", "some regions failed"
        FAILED = "failed", "failed"

    account = models.ForeignKey(CloudAccount, on_delete=models.CASCADE, related_name="sync_runs")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=32, default="command")
    # The Celery task that ran it: a redelivered task closes the run its lost worker left.
    task_id = models.CharField(max_length=64, blank=True, db_index=True)
    error = models.TextField(blank=True)
    instances_seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    marked_gone = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self):
        return f"sync {self.account.name} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class SyncRegion(models.Model):
    """The outcome of one region within a sync run."""

    class Status(models.TextChoices):
        OK = "ok", "ok"
        FAILED = "failed", "failed"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="regions")
    region = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices)
    error = models.TextField(blank=True)
    # Lookups that failed while the region as a whole synced (shown, never fatal).
    warnings = models.JSONField(default=list, blank=True)
    instances_found = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    class Meta:
        ordering = ["region"]
        constraints = [
            models.UniqueConstraint(fields=["run", "region"], name="syncregion_unique"),
        ]
        indexes = [models.Index(fields=["region", "status"])]

    def __str__(self):
        return f"{self.region}: {self.status}"


ACTIVE = Q(gone_at__isnull=True)


class TeamGrant(models.Model):
    """A team (a Django group) is granted the accounts whose name matches `pattern`: an
    account name, or a glob (`payments-*`, `*`). Non-staff users see and act on only the
    accounts their teams are granted (inventory/teams.py; README "Access")."""

    group = models.ForeignKey("auth.Group", on_delete=models.CASCADE, related_name="grants")
    pattern = models.CharField(
        max_length=100,
        validators=[validate_account_pattern],
        help_text="An account name, or a glob over account names (* ? [abc]).",
    )

    class Meta:
        ordering = ["group__name", "pattern"]
        constraints = [
            models.UniqueConstraint(fields=["group", "pattern"], name="one_grant_per_pattern")
        ]

    def __str__(self):
        return f"{self.group.name}: {self.pattern}"
