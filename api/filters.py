"""The list pages' filters, for the API: a thin adapter over dashboard/filtersets.py.

The API reads the same query parameters as /instances/ (a link's query string means the
same in both) through the filter set's public entry points only, so that a change of the
filter set's machinery (django-filter) changes this file alone. Two differences, both
because an API client is a program: an invalid value is an error (400) instead of a filter
left out, and a value of the select boxes that exists nowhere (an account name nobody has)
matches no endpoint instead of being "not one of the choices".
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.db.models import QuerySet

from dashboard.filtersets import InstanceFilterSet, filter_choices
from inventory.models import DBInstance
from posture.visibility import Visible

# Select boxes whose choices are the fleet's own values.
FLEET_VALUED = ("account", "region", "engine", "engine_version")


@dataclass(frozen=True)
class Filtered:
    instances: QuerySet
    values: dict  # the filters in force
    errors: dict[str, list[str]]


def filter_instances(params, visible: Visible) -> Filtered:
    choices = filter_choices(visible)
    for name in FLEET_VALUED:
        asked = params.get(name)
        # NUL is in no name: left out, the form refuses it as it refuses it everywhere.
        if asked and "\x00" not in asked and asked not in choices[name]:
            choices[name] = [*choices[name], asked]
    filterset = InstanceFilterSet(params, visible.instances, choices=choices)
    errors = {name: [str(e) for e in errs] for name, errs in filterset.form.errors.items()}
    return Filtered(filterset.qs, dict(filterset.values), errors)


@dataclass(frozen=True)
class FilterParameter:
    name: str
    label: str
    enum: tuple[str, ...] | None  # None: free text, or a value of the fleet; "" is "any"
    max_length: int | None


def filter_parameters() -> list[FilterParameter]:
    """The filters as the OpenAPI schema lists them, read from the filter set's form."""
    empty = DBInstance.objects.none()
    form = InstanceFilterSet(None, empty, choices={name: [] for name in FLEET_VALUED}).form
    parameters = []
    for name, field in form.fields.items():
        enum = None
        if isinstance(field, forms.ChoiceField) and name not in FLEET_VALUED:
            # "" is "any" (state: "current"), as the list page's form sends it.
            enum = tuple(str(value) for value, _ in field.choices)
        max_length = getattr(field, "max_length", None)
        parameters.append(FilterParameter(name, str(field.label or name), enum, max_length))
    return parameters
