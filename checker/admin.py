from django.contrib import admin

from checker.models import CheckerProfile, CheckRun, Observation, TargetState
from common.admin import SyncedDataAdmin


@admin.register(CheckerProfile)
class CheckerProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "match", "position", "username", "iam_auth", "enabled"]
    list_editable = ["position", "enabled"]
    search_fields = ["name", "match", "username"]
    exclude = ["password_encrypted"]


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
