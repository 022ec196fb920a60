from django.contrib import admin

from common.admin import SyncedDataAdmin, SyncedDataInline
from inventory.models import (
    CACertificate,
    CloudAccount,
    DBInstance,
    PendingAction,
    SyncRegion,
    SyncRun,
    TLSParameter,
)


@admin.register(CloudAccount)
class CloudAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "network_zone", "enabled", "updated_at"]
    list_filter = ["provider", "network_zone", "enabled"]
    search_fields = ["name", "role_arn"]


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
    """Synced facts are read-only; only where the checker dials may be changed here."""

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
        return [f.name for f in self.model._meta.fields if f.name not in self.editable] + [
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
