"""API tokens in the admin: listed and revoked (deleted) by staff with the permissions;
created only by superusers, since a token acts as the user it is made for. The new token
is shown once, on the page after "Save"; only its hash is stored."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from api import services
from api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return False  # a token is created or revoked, never edited

    def save_model(self, request, obj, form, change):
        row, token = services.create_token(obj.user, obj.name)
        obj.pk, obj.prefix, obj.key_hash = row.pk, row.prefix, row.key_hash
        obj.created_at = row.created_at
        request.new_api_token = token

    def delete_model(self, request, obj):
        services.revoke_token(obj)

    def delete_queryset(self, request, queryset):
        for row in queryset:
            services.revoke_token(row)

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "row": obj,
            "token": request.new_api_token,
            "title": "API token created",
        }
        response = TemplateResponse(request, "admin/api/apitoken/created.html", context)
        add_never_cache_headers(response)
        return response
