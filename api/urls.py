from django.urls import path, re_path

from api.views import tokens, v1

app_name = "api"

urlpatterns = [
    path("v1/openapi.json", v1.openapi, name="openapi"),
    path("v1/endpoints", v1.endpoints, name="endpoints"),
    path("v1/endpoints/<int:pk>", v1.endpoint, name="endpoint"),
    path("v1/findings", v1.findings, name="findings"),
    path("v1/certificates", v1.certificates, name="certificates"),
    path("v1/runs/sync", v1.sync_runs, name="sync-runs"),
    path("v1/runs/check", v1.check_runs, name="check-runs"),
    re_path(r"^v1/(?P<path>.*)$", v1.not_found),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="token-revoke"),
]
