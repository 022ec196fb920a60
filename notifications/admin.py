from django.contrib import admin

from common.admin import SyncedDataAdmin
from notifications.forms import DigestSubscriptionForm
from notifications.models import DigestSendLog, DigestSubscription


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(admin.ModelAdmin):
    # Same validation as the self-service pages: addresses, thresholds, zone, tags.
    form = DigestSubscriptionForm
    # Without this the admin takes its fields from the form, which leaves the owner out.
    fields = ["owner", *DigestSubscriptionForm.Meta.fields]
    list_display = ["name", "owner", "cadence", "time_zone", "active"]
    list_filter = ["cadence", "active"]
    list_select_related = ["owner"]
    search_fields = ["name", "recipients", "owner__username"]


@admin.register(DigestSendLog)
class DigestSendLogAdmin(SyncedDataAdmin):
    list_display = ["subscription", "period", "status", "claimed_at", "sent_at"]
    list_filter = ["status"]
    list_select_related = ["subscription"]
    search_fields = ["subscription__name", "period"]
