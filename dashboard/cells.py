"""How each kind of table cell is drawn (TableColumn.cell): small functions, not template
includes, because a page of 250 rows has 3,000 cells."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from dashboard import display
from dashboard.tables import Row, TableColumn
from inventory.sources.clouds import CLOUDS
from posture.grades import severity_rank

UNKNOWN = mark_safe('<span class="muted">unknown</span>')


def _provider(value, row: Row):
    cloud = CLOUDS.get(value)
    if cloud is None:
        return value
    if cloud.short_label == cloud.label:
        return cloud.label
    return format_html('<abbr title="{}">{}</abbr>', cloud.label, cloud.short_label)


def _instance(value, row: Row):
    link = format_html('<a href="{}">{}</a>', reverse("dashboard:instance", args=[row.pk]), value)
    kind = row.data.get("kind")
    if kind and kind != "instance":
        return format_html('{} <span class="muted">({})</span>', link, kind)
    return link


READINESS_WORDS = {
    "ready": "ready",
    "not-ready": "would break",
    "unknown": "unknown",
    "done": "already enforced",
}


def _readiness(value, row: Row):
    """Would enforcing TLS break a client? The verdict in words is the title."""
    state = value or "unknown"
    verdict = row.data.get("enforce_tls_verdict") or "not evaluated since client evidence"
    return format_html(
        '<span class="readiness-{}" title="{}">{}</span>',
        state,
        verdict,
        READINESS_WORDS.get(state, state),
    )


def _enforced(value, row: Row):
    if value is None:
        title = row.data.get("unknown", {}).get("transport_enforced", "")
    else:
        title = f"known from {row.data.get('transport_enforced_source') or 'unknown source'}"
    word = display.enforcement_word(value)
    cell = format_html(
        '<span class="enforced-{}" title="{}">{}</span>', word.replace(" ", "-"), title, word
    )
    apsaradb = _ssl_facts(row.data.get("ssl_enabled"), row.data.get("ssl_forced"))
    return format_html('{} <span class="muted">({})</span>', cell, apsaradb) if apsaradb else cell


def _ssl_facts(enabled, forced) -> str:
    """ApsaraDB's two facts side by side, never merged; "" where the provider has neither."""
    if enabled is None and forced is None:
        return ""
    words = {True: "on", False: "off", None: "unknown"}
    return f"SSL {words[enabled]}, forced {words[forced]}"


def _tls(value, row: Row):
    if not value:
        reason = row.data.get("unknown", {}).get("tls_versions_accepted", "")
        return format_html('<span class="muted" title="{}">unknown</span>', reason)
    if value in display.LEGACY_TLS:
        return format_html('{} <span class="legacy">(legacy)</span>', value)
    return value


def _findings(value, row: Row):
    """ "3 open (1 critical)": how many, and how many of the worst severity among them."""
    if not value:
        return "none"
    severities = [f.get("severity") for f in row.data.get("findings") or []]
    worst = min(severities, key=severity_rank, default=None)
    of_worst = format_html(" ({} {})", severities.count(worst), worst) if worst else ""
    return format_html(
        '<a href="{}#findings" title="{}">{} open{}</a>',
        reverse("dashboard:instance", args=[row.pk]),
        ", ".join(value),
        len(value),
        of_worst,
    )


def _checked(value, row: Row):
    status = display.check_status_word(row.data.get("check_status"))
    if not value:
        return status
    return format_html("{}<br>{}", status, display.when(value, short=True))


def _finding(value, row: Row):
    return format_html(
        '<a href="{}#finding-{}"><code>{}</code></a>',
        reverse("dashboard:instance", args=[row.pk]),
        value,
        value,
    )


def _reach(value, row: Row):
    if not value or value <= 1:
        return "this endpoint"
    return format_html("{} endpoints", value)


RENDERERS: dict[str, Callable[[object, Row], object]] = {
    "finding": _finding,
    "reach": _reach,
    "instance": _instance,
    "provider": _provider,
    "engine": lambda value, row: f"{value} {row.data.get('engine_version') or ''}".strip(),
    "code": lambda value, row: (
        format_html("<code>{}</code>", display.breakable(value)) if value else UNKNOWN
    ),
    "grade": lambda value, row: display.grade_badge(value),
    "severity": lambda value, row: format_html(
        '<span class="severity severity-{}">{}</span>', value, value
    ),
    "enforced": _enforced,
    "readiness": _readiness,
    "tls": _tls,
    "expiry": lambda value, row: display.expiry(value),
    "when": lambda value, row: display.when(value),
    "findings": _findings,
    "checked": _checked,
    "evidence": lambda value, row: format_html(
        '<pre class="evidence">{}</pre>', display.pretty_json(value)
    ),
    "remediation": lambda value, row: format_html(
        '<details><summary>remediation</summary><pre class="remediation">{}</pre></details>',
        value,
    ),
}


def render(column: TableColumn, row: Row) -> SafeString:
    value = column.value(row.data)
    renderer = RENDERERS.get(column.cell)
    if renderer is None:
        return format_html("{}", "—" if value is None else value)
    return format_html("{}", renderer(value, row))
