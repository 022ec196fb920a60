"""Saving and deleting a user's views of the endpoint list (dashboard/saved_views.py).
Applying one is a plain link to the list with its query string."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from dashboard import services
from dashboard.forms import view_params
from dashboard.models import SavedView
from dashboard.views.instances import instance_list, save_view_form


def _list_url(params) -> str:
    query = params.urlencode()
    return reverse("dashboard:instances") + (f"?{query}" if query else "")


@require_http_methods(["GET", "POST"])
def save_view(request):
    if request.method == "GET":
        # After a refused save this page is the list, whose sort, page and column links are
        # relative ("?sort=grade"): they land here and go on to the list.
        return HttpResponseRedirect(_list_url(request.GET))
    posted = request.POST.get("query", "")
    form = save_view_form(request, posted, data=request.POST)
    if form.is_valid():
        try:
            services.save_view(request.user, form.cleaned_data["name"], form.cleaned_data["query"])
        except services.NameTaken:
            form.add_error("name", "You already have a view of that name.")
        else:
            messages.success(request, f"View “{form.cleaned_data['name']}” saved.")
            return HttpResponseRedirect(_list_url(view_params(form.cleaned_data["query"])))
    # Show the list the user was looking at, with the form's errors and what they typed.
    request.GET = view_params(posted)
    return instance_list(request, save_form=form)


@require_POST
def delete_view(request, pk: int):
    view = get_object_or_404(SavedView, pk=pk, user=request.user)  # nobody else's: 404
    services.delete_view(view)
    messages.success(request, f"View “{view.name}” deleted.")
    return HttpResponseRedirect(_list_url(view_params(request.POST.get("query", ""))))
