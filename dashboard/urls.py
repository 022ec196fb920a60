from django.urls import path, register_converter

from dashboard.views import (
    certificates,
    check,
    evidence,
    findings,
    instances,
    overview,
    runs,
    saved_views,
)


class ExportFormat:
    regex = "csv|xlsx|json"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(ExportFormat, "export")


class EvidenceFormat(ExportFormat):
    regex = "csv|xlsx"


register_converter(EvidenceFormat, "evidence")

app_name = "dashboard"

urlpatterns = [
    path("", overview.home, name="home"),
    path("instances/", instances.instance_list, name="instances"),
    path("instances/export.<export:fmt>", instances.instance_export, name="instances-export"),
    path("instances/views/", saved_views.save_view, name="view-save"),
    path("instances/views/<int:pk>/delete/", saved_views.delete_view, name="view-delete"),
    path("instances/<int:pk>/", instances.instance_detail, name="instance"),
    path("instances/<int:pk>/check/", check.check_now_start, name="check-now"),
    path("instances/<int:pk>/check/status/", check.check_now_status, name="check-status"),
    path("certificates/", certificates.certificates, name="certificates"),
    path("findings/", findings.finding_list, name="findings"),
    path("findings/export.<export:fmt>", instances.finding_export, name="findings-export"),
    path("findings/<str:finding_id>/", findings.finding_detail, name="finding"),
    path("runs/", runs.runs, name="runs"),
    path("evidence/", evidence.evidence_page, name="evidence"),
    path("evidence/export.<evidence:fmt>", evidence.evidence_file, name="evidence-export"),
]
