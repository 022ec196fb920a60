"""The instance list (filters, sorting, paging, exports) and the instance page."""

from django.shortcuts import render

from dashboard import check_now
from dashboard.exports import export_about, findings_export, instances_export, staff_only
from dashboard.filtersets import FindingFilterSet, instance_filters
from dashboard.forms import SaveViewForm
from dashboard.instance_detail import load_instance_detail
from dashboard.links import query_with
from dashboard.listing import render_page, table_listing, wants_region
from dashboard.saved_views import users_views
from dashboard.tables import INSTANCE_TABLE, report_table_rows
from posture.report import with_report_relations
from posture.visibility import request_visible


def instance_list(request, save_form: SaveViewForm | None = None):
    filters = instance_filters(request)
    instances = with_report_relations(filters.qs, detail=False)
    listing = table_listing(request, INSTANCE_TABLE, instances, rows=report_table_rows)
    context = {"filters": filters, "listing": listing, "export_query": query_with(request.GET)}
    regions = {"instance-table": "dashboard/partials/instance_table.html"}
    if not any(wants_region(request, region) for region in regions):
        context["users_views"] = users_views(request.user)
        context["save_view"] = save_form or save_view_form(request, request.GET.urlencode())
    return render_page(request, "dashboard/instances.html", context, regions=regions)


def save_view_form(request, query: str, data=None) -> SaveViewForm:
    def filters_for(params):
        return instance_filters(request, params)

    initial = {"query": query}
    return SaveViewForm(data, initial=initial, user=request.user, filters_for=filters_for)


@staff_only
def instance_export(request, fmt):
    filters = instance_filters(request)
    instances = filters.qs
    ordering = INSTANCE_TABLE.ordering(request.GET.get("sort"))
    if ordering.key:  # the order on screen; else the report's own order
        instances = instances.order_by(*ordering.order_by)
    return instances_export(instances, fmt, export_about(request, filters, "instances"))


@staff_only
def finding_export(request, fmt):
    filters = FindingFilterSet(request.GET, instances=instance_filters(request))
    about = export_about(request, filters.instances, "findings")
    return findings_export(filters.qs, fmt, about)


def instance_detail(request, pk):
    detail = load_instance_detail(request_visible(request).instances, pk)
    context = {"d": detail, "progress": check_now.in_flight(detail.instance)}
    return render(request, "dashboard/instance.html", context)
