from django.contrib import admin

from checker.forms import CheckerProfileForm
from checker.models import (
    CheckerProfile,
    CheckRun,
    ClientReadout,
    ClientSighting,
    Observation,
    TargetState,
)
from common.admin import SuperuserDecidesSecretsAdmin, SyncedDataAdmin


@admin.register(CheckerProfile)
class CheckerProfileAdmin(SuperuserDecidesSecretsAdmin):
    form = CheckerProfileForm
    # Where the password comes from and where the checker (and the plaintext canary) dial.
    secret_routing = (
        "password_env",
        "secrets_manager_arn",
        "iam_auth",
        "ca_bundle",
        "connect_host",
        "connect_port",
        "canary_username",
        "canary_password_env",
    )
    secret_form_fields = ("new_password", "clear_password")
    list_display = ["name", "match", "position", "username", "credential", "enabled"]
    list_editable = ["position", "enabled"]
    search_fields = ["name", "match", "username"]
    readonly_fields = ["password_stored"]

    @admin.display(description="credential")
    def credential(self, profile):
        if profile.password_env:
            return f"env {profile.password_env}"
        if profile.secrets_manager_arn:
            return "Secrets Manager"
        if profile.iam_auth:
            return "IAM token"
        return "stored password" if profile.password_encrypted else "—"

    @admin.display(boolean=True, description="password stored")
    def password_stored(self, profile):
        return bool(profile.password_encrypted)


@admin.register(CheckRun)
class CheckRunAdmin(SyncedDataAdmin):
    list_display = ["started_at", "finished_at", "status", "targets", "ok", "failed", "trigger"]
    list_filter = ["status", "trigger"]


@admin.register(Observation)
class ObservationAdmin(SyncedDataAdmin):
    list_display = ["instance", "checked_at", "status", "reason", "duration_ms"]
    list_filter = ["status"]
    list_select_related = ["instance__account"]
    search_fields = ["instance__identifier", "reason"]


@admin.register(TargetState)
class TargetStateAdmin(SyncedDataAdmin):
    list_display = ["instance", "status", "last_checked", "last_ok_at"]
    list_filter = ["status"]
    list_select_related = ["instance__account"]


@admin.register(ClientSighting)
class ClientSightingAdmin(SyncedDataAdmin):
    list_display = [
        "instance", "user", "host", "tls_version", "connections", "checks", "first_seen",
        "last_seen",
    ]  # fmt: skip
    list_filter = ["tls_version"]
    list_select_related = ["instance__account"]
    search_fields = ["instance__identifier", "user", "host"]


@admin.register(ClientReadout)
class ClientReadoutAdmin(SyncedDataAdmin):
    list_display = ["instance", "checked_at", "state", "counted_connections", "counted_without_tls"]
    list_filter = ["state"]
    list_select_related = ["instance__account"]
    search_fields = ["instance__identifier", "reason"]
