"""Read-only queries behind the pages; a fixed number of queries whatever the fleet size."""

from inventory.models import ACTIVE, CloudAccount, DBInstance
from posture.models import Finding


def home_counts() -> dict[str, int]:
    return {
        "accounts": CloudAccount.objects.count(),
        "instances": DBInstance.objects.filter(ACTIVE).count(),
        "findings": Finding.objects.filter(
            resolved_at__isnull=True, instance__gone_at__isnull=True
        ).count(),
    }
