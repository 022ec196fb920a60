from django.contrib import admin

from common.admin import SyncedDataAdmin
from notifications.models import DigestSendLog, DigestSubscription


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "cadence", "time_zone", "active"]
    list_filter = ["cadence", "active"]
    filter_horizontal = ["accounts"]


@admin.register(DigestSendLog)
class DigestSendLogAdmin(SyncedDataAdmin):
    list_display = ["subscription", "period", "status", "claimed_at", "sent_at"]
    list_filter = ["status"]
