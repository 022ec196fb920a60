"""Server certificates and CAs by expiry, a timeline, and the pending rotations."""

from django.utils import timezone

from dashboard import charts, queries
from dashboard.filtersets import instance_filters
from dashboard.listing import render_page, table_listing
from dashboard.tables import CERTIFICATE_TABLE, report_table_rows
from posture.report import with_report_relations
from posture.visibility import request_visible

ROTATIONS_SHOWN = 20


def certificates(request):
    now = timezone.now()
    visible = request_visible(request)
    filters = instance_filters(request)
    instances = with_report_relations(filters.qs, detail=False)
    listing = table_listing(request, CERTIFICATE_TABLE, instances, rows=report_table_rows)
    expired, months = queries.expiry_timeline(visible, now)
    rotations = queries.pending_rotations(visible)
    context = {
        "filters": filters,
        "listing": listing,
        "expired": expired,
        "timeline": charts.timeline_chart(
            "expiry-timeline",
            "Server certificates expiring and rotations due per month; CAs expiring marked ▲",
            [
                charts.TimelineSlot(m.month.strftime("%b %Y"), m.certificates, m.rotations, m.cas)
                for m in months
            ],
        ),
        "cas": queries.cas_by_identifier(visible),
        # The same count as the overview's "CA expires: unknown" (one definition).
        "ca_unknown": queries.expiry_counts(visible, now)["ca"]["unknown"],
        "rotations": list(rotations[:ROTATIONS_SHOWN]),
        "rotation_count": rotations.count(),
    }
    regions = {"certificate-table": "dashboard/partials/certificate_table.html"}
    return render_page(request, "dashboard/certificates.html", context, regions=regions)
