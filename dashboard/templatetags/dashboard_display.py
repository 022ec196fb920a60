"""Template filters and tags for grades, states, times and table cells (dashboard.display,
dashboard.cells)."""

from __future__ import annotations

from django import template

from dashboard import cells, display, saved_views

register = template.Library()

register.filter("grade_label", display.grade_label)
register.filter("grade_css", display.grade_css)
register.filter("enforcement", display.enforcement_word)
register.filter("check_status", display.check_status_word)
register.filter("as_datetime", display.as_datetime)
register.filter("pretty_json", display.pretty_json)
register.filter("breakable", display.breakable)
register.simple_tag(display.when, name="when")
register.simple_tag(display.expiry, name="expiry")
register.simple_tag(saved_views.saved_views, name="saved_views")


@register.filter
def table_cells(row, columns):
    """The HTML of each cell of one table row."""
    return [(column, cells.render(column, row)) for column in columns]
