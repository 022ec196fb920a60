from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group

from common.admin import (
    CredentialNamesForm,
    SuperuserDecidesSecretsAdmin,
    SyncedDataAdmin,
    SyncedDataInline,
)
from inventory.models import (
    CACertificate,
    CloudAccount,
    DBInstance,
    PendingAction,
    SyncRegion,
    SyncRun,
    TeamGrant,
    TLSParameter,
)
from inventory.teams import pattern_matches, teams_of


class CloudAccountForm(CredentialNamesForm, forms.ModelForm):
    class Meta:
        model = CloudAccount
        # Every field, so one added later shows up (and, as *_env or *ca_bundle, is
        # superuser-only at once: common.admin.secret_routing_fields).
        fields = "__all__"  # noqa: DJ007


@admin.register(CloudAccount)
class CloudAccountAdmin(SuperuserDecidesSecretsAdmin):
    form = CloudAccountForm
    # Which keys are read and which endpoint receives the signed requests. The role decides
    # which cloud account is listed, so whose database endpoints get the checker's login.
    secret_routing = (
        "role_arn",
        "endpoint_url",
        "endpoint",
        "protocol",
        "access_key_id_env",
        "access_key_secret_env",
        "security_token_env",
        "ca_bundle",
    )
    list_display = ["name", "provider", "network_zone", "enabled", "updated_at"]
    list_filter = ["provider", "network_zone", "enabled"]
    search_fields = ["name", "role_arn"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "teams"]

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != "teams"]
        return [*fields, "teams"] if obj is not None else fields

    @admin.display(description="Teams that see it")
    def teams(self, account):
        # Edited on the team (Authentication › Groups) or by accounts as code.
        return ", ".join(teams_of(account)) or "none (staff only)"


class TLSParameterInline(SyncedDataInline):
    model = TLSParameter
    fields = [
        "name",
        "raw_value",
        "normalised_value",
        "source",
        "source_name",
        "set_by",
        "apply_status",
    ]
    readonly_fields = fields


class PendingActionInline(SyncedDataInline):
    model = PendingAction
    fields = [
        "action",
        "description",
        "current_apply_date",
        "auto_applied_after",
        "forced_apply_date",
    ]
    readonly_fields = fields


@admin.register(DBInstance)
class DBInstanceAdmin(admin.ModelAdmin):
    """Synced facts are read-only; where the checker dials may be changed here, by
    superusers only: the canary's password and the probe go to that address."""

    list_display = [
        "identifier",
        "account",
        "region",
        "kind",
        "engine",
        "engine_version",
        "gone_at",
    ]
    list_filter = ["provider", "kind", "engine", "region", "account"]
    search_fields = ["identifier", "endpoint_host", "resource_id"]
    list_select_related = ["account"]
    inlines = [TLSParameterInline, PendingActionInline]
    editable = {"connect_host", "connect_port"}

    def get_readonly_fields(self, request, obj=None):
        editable = self.editable if request.user.is_superuser else set()
        return [f.name for f in self.model._meta.fields if f.name not in editable] + [
            "proxy_targets"
        ]

    def has_add_permission(self, request):
        return False


@admin.register(CACertificate)
class CACertificateAdmin(SyncedDataAdmin):
    list_display = ["identifier", "account", "region", "valid_till", "default_for_new_launches"]
    list_filter = ["account", "region"]


@admin.register(PendingAction)
class PendingActionAdmin(SyncedDataAdmin):
    list_display = ["instance", "action", "current_apply_date", "forced_apply_date"]
    list_filter = ["action"]
    list_select_related = ["instance__account"]


class SyncRegionInline(SyncedDataInline):
    model = SyncRegion
    fields = ["region", "status", "instances_found", "api_calls", "error", "warnings"]
    readonly_fields = fields


@admin.register(SyncRun)
class SyncRunAdmin(SyncedDataAdmin):
    list_display = ["account", "started_at", "finished_at", "status", "instances_seen", "changed"]
    list_filter = ["status", "account"]
    inlines = [SyncRegionInline]


@admin.register(SyncRegion)
class SyncRegionAdmin(SyncedDataAdmin):
    list_display = ["run", "region", "status", "instances_found", "error"]
    list_filter = ["status", "region"]
    list_select_related = ["run__account"]


@admin.register(TLSParameter)
class TLSParameterAdmin(SyncedDataAdmin):
    list_display = ["instance", "name", "raw_value", "source", "set_by", "apply_status"]
    list_filter = ["name", "source", "apply_status"]
    list_select_related = ["instance__account"]


class SuperusersOnly:
    """Who sees what is decided by superusers alone: a staff user who could grant a team
    an account could hand anyone the fleet's evidence (README "Access")."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


class TeamGrantInline(SuperusersOnly, admin.TabularInline):
    model = TeamGrant
    extra = 1
    fields = ["pattern"]


@admin.register(TeamGrant)
class TeamGrantAdmin(SuperusersOnly, admin.ModelAdmin):
    list_display = ["group", "pattern", "accounts_matched"]
    list_filter = ["group"]
    search_fields = ["group__name", "pattern"]
    list_select_related = ["group"]

    @admin.display(description="Accounts it grants today")
    def accounts_matched(self, grant):
        names = CloudAccount.objects.values_list("name", flat=True)
        matched = [n for n in names if pattern_matches(grant.pattern, n)]
        return ", ".join(matched) or "none"


class TeamAdmin(GroupAdmin):
    """Django's group admin, with the team's account grants (shown to superusers only)."""

    inlines = [*GroupAdmin.inlines, TeamGrantInline]
    list_display = ["name", "granted"]

    @admin.display(description="Accounts granted")
    def granted(self, group):
        return ", ".join(g.pattern for g in group.grants.all()) or "none"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("grants")


admin.site.unregister(Group)
admin.site.register(Group, TeamAdmin)
