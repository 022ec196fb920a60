"""Admin building blocks shared by the apps."""

from django.contrib import admin


class SyncedDataAdmin(admin.ModelAdmin):
    """Data written by syncs and checks: visible in the admin, never edited there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SyncedDataInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
