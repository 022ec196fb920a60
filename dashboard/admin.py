"""Export actions on the admin's endpoint and finding lists (CSV, XLSX, JSON of the
selected rows). The admins themselves belong to inventory and posture; the dashboard owns
exports, so it re-registers them here with the actions added (it is installed after them)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied

from dashboard.exports import export_about, findings_export, instances_export
from inventory.admin import DBInstanceAdmin
from inventory.models import DBInstance
from posture.admin import FindingAdmin
from posture.finding_report import in_report_order
from posture.models import Finding


def _staff(request):
    if not request.user.is_staff:  # the admin already insists; exports insist again
        raise PermissionDenied("Exports are for staff only.")


def _instance_action(fmt: str):
    def action(modeladmin, request, queryset):
        _staff(request)
        about = export_about(
            request, None, "endpoints", chosen=f"{queryset.count()} selected in the admin"
        )
        return instances_export(queryset.order_by(), fmt, about)

    action.__name__ = f"export_instances_{fmt}"
    return admin.action(description=f"Export selected endpoints ({fmt.upper()})")(action)


def _finding_action(fmt: str):
    def action(modeladmin, request, queryset):
        _staff(request)
        about = export_about(
            request, None, "findings", chosen=f"{queryset.count()} selected in the admin"
        )
        return findings_export(in_report_order(queryset), fmt, about)

    action.__name__ = f"export_findings_{fmt}"
    return admin.action(description=f"Export selected findings ({fmt.upper()})")(action)


class DBInstanceExportAdmin(DBInstanceAdmin):
    actions = [_instance_action(fmt) for fmt in ("csv", "xlsx", "json")]


class FindingExportAdmin(FindingAdmin):
    actions = [_finding_action(fmt) for fmt in ("csv", "xlsx", "json")]


admin.site.unregister(DBInstance)
admin.site.register(DBInstance, DBInstanceExportAdmin)
admin.site.unregister(Finding)
admin.site.register(Finding, FindingExportAdmin)
