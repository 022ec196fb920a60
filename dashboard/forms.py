"""Forms of the dashboard's own state: naming and keeping a view of the endpoint list."""

from __future__ import annotations

from django import forms
from django.http import QueryDict

from dashboard.models import SavedView

# Where a list stands, not what it shows: a saved view opens on its first page.
NOT_KEPT = ("page", "csrfmiddlewaretoken")


def view_params(query: str) -> QueryDict:
    """The parameters a view keeps, read from a query string (a leading `?` allowed): not
    the page, not an empty field."""
    params = QueryDict(query.lstrip("?"), mutable=True)
    for key in NOT_KEPT:
        params.pop(key, None)
    # A form sent without JavaScript carries every field, the empty ones too ("q=&account=").
    for key in list(params):
        values = [value for value in params.getlist(key) if value != ""]
        if values:
            params.setlist(key, values)
        else:
            del params[key]
    return params


class SaveViewForm(forms.Form):
    """ "Save this view": a name, and the list's query string (kept in a hidden field, so
    the view saved is the one on screen; static/js/app.js refreshes it after HTMX swaps)."""

    name = forms.CharField(label="Name", max_length=SavedView.NAME_MAX_LENGTH)
    query = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, filters_for, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.filters_for = filters_for  # QueryDict → the user's InstanceFilterSet

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if SavedView.objects.filter(user=self.user, name=name).exists():
            raise forms.ValidationError(f"You already have a view named “{name}”.")
        return name

    def clean_query(self) -> str:
        params = view_params(self.cleaned_data.get("query") or "")
        if not self.filters_for(params).is_valid():
            raise forms.ValidationError("The filters have errors: fix them, then save.")
        query = params.urlencode()
        if len(query) > SavedView.QUERY_MAX_LENGTH:
            raise forms.ValidationError("Too many filters to keep in one view.")
        return query
