from django.contrib import admin

from common.admin import SyncedDataAdmin
from posture.models import Finding, GradeChange, InstancePosture


@admin.register(Finding)
class FindingAdmin(SyncedDataAdmin):
    list_display = ["finding_id", "instance", "severity", "first_seen", "last_seen", "resolved_at"]
    list_filter = ["severity", "finding_id"]
    list_select_related = ["instance__account"]
    search_fields = ["finding_id", "instance__identifier"]


@admin.register(InstancePosture)
class InstancePostureAdmin(SyncedDataAdmin):
    list_display = [
        "instance",
        "grade",
        "transport_enforced",
        "lowest_tls_accepted",
        "evaluated_at",
    ]
    list_filter = ["grade"]
    list_select_related = ["instance__account"]


@admin.register(GradeChange)
class GradeChangeAdmin(SyncedDataAdmin):
    list_display = ["instance", "previous", "grade", "changed_at"]
    list_select_related = ["instance__account"]
