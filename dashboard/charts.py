"""Inline SVG charts drawn on the server: no JavaScript library, nothing to download.

Every bar carries its number and label as text and a <title>, so colour is never the only
signal and screen readers hear the same figures; a bar with a link is a real <a>, so the
chart works as navigation without JavaScript. All text goes through format_html (escaped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    title: str  # the full sentence: "12 endpoints graded F — failing"
    css: str = ""
    href: str | None = None


def _linked(href: str | None, inner: SafeString) -> SafeString:
    if href:
        return format_html('<a href="{}">{}</a>', href, inner)
    return inner


def _svg(chart_id: str, title: str, width: int, height: int, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="chart" id="{}" role="img" aria-labelledby="{}-title" viewBox="0 0 {} {}" '
        'width="{}" height="{}" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}-title">{}</title>{}</svg>',
        chart_id,
        chart_id,
        width,
        height,
        width,
        height,
        chart_id,
        title,
        body,
    )


def column_chart(chart_id: str, title: str, bars: Sequence[Bar]) -> SafeString:
    """Vertical bars with the value above and the label below each."""
    slot, plot, top, bottom = 64, 150, 22, 26
    width, height = max(slot * len(bars), slot), top + plot + bottom
    peak = max((bar.value for bar in bars), default=0) or 1
    parts = []
    for n, bar in enumerate(bars):
        size = round(plot * bar.value / peak)
        x, y = n * slot + 10, top + plot - size
        inner = format_html(
            '<g class="bar {}"><title>{}</title>'
            '<rect x="{}" y="{}" width="{}" height="{}"></rect>'
            '<text class="value" x="{}" y="{}" text-anchor="middle">{}</text>'
            '<text class="label" x="{}" y="{}" text-anchor="middle">{}</text></g>',
            bar.css,
            bar.title,
            x,
            y,
            slot - 20,
            max(size, 1),
            x + (slot - 20) / 2,
            y - 6,
            bar.value,
            x + (slot - 20) / 2,
            top + plot + 18,
            bar.label,
        )
        parts.append(_linked(bar.href, inner))
    return _svg(chart_id, title, width, height, mark_safe("".join(parts)))  # noqa: S308 - parts are format_html output


def row_chart(
    chart_id: str, title: str, bars: Sequence[Bar], *, label_width: int = 300
) -> SafeString:
    """Horizontal bars, label on the left, value after the bar: for long labels."""
    row, plot = 24, 360
    width, height = label_width + plot + 60, max(row * len(bars), row) + 4
    peak = max((bar.value for bar in bars), default=0) or 1
    parts = []
    for n, bar in enumerate(bars):
        size = round(plot * bar.value / peak)
        y = n * row + 2
        inner = format_html(
            '<g class="bar {}"><title>{}</title>'
            '<text class="label" x="{}" y="{}" text-anchor="end">{}</text>'
            '<rect x="{}" y="{}" width="{}" height="{}"></rect>'
            '<text class="value" x="{}" y="{}">{}</text></g>',
            bar.css,
            bar.title,
            label_width - 8,
            y + 15,
            bar.label,
            label_width,
            y + 3,
            max(size, 1),
            row - 8,
            label_width + max(size, 1) + 6,
            y + 15,
            bar.value,
        )
        parts.append(_linked(bar.href, inner))
    return _svg(chart_id, title, width, height, mark_safe("".join(parts)))  # noqa: S308 - parts are format_html output


@dataclass(frozen=True)
class TimelineSlot:
    label: str  # "Dec 2026"
    certificates: int
    rotations: int
    markers: tuple[str, ...]  # CA identifiers expiring in this slot


def timeline_chart(chart_id: str, title: str, slots: Sequence[TimelineSlot]) -> SafeString:
    """Per month: server certificates expiring (solid) and rotations due (hatched) side by
    side, numbers above, and the CAs expiring that month written under the axis."""
    slot, plot, top = 70, 140, 22
    marker_rows = max((len(s.markers) for s in slots), default=0)
    width = max(slot * len(slots), slot)
    height = top + plot + 22 + 14 * marker_rows + 4
    peak = max((max(s.certificates, s.rotations) for s in slots), default=0) or 1
    parts = [
        format_html(
            '<defs><pattern id="{}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="6" height="6" class="hatch-bg"></rect>'
            '<line x1="0" y1="0" x2="0" y2="6" class="hatch-line"></line></pattern></defs>',
            chart_id,
        )
    ]
    for n, s in enumerate(slots):
        x0 = n * slot + 8
        for offset, count, css, what in (
            (0, s.certificates, "certs", "server certificates expire"),
            (26, s.rotations, "rotations", "pending rotations fall due"),
        ):
            size = round(plot * count / peak)
            fill = format_html(' fill="url(#{}-hatch)"', chart_id) if css == "rotations" else ""
            parts.append(
                format_html(
                    '<g class="bar {}"><title>{}: {} {}</title>'
                    '<rect x="{}" y="{}" width="22" height="{}"{}></rect>'
                    '<text class="value" x="{}" y="{}" text-anchor="middle">{}</text></g>',
                    css,
                    s.label,
                    count,
                    what,
                    x0 + offset,
                    top + plot - max(size, 1),
                    max(size, 1),
                    fill,
                    x0 + offset + 11,
                    top + plot - max(size, 1) - 5,
                    count,
                )
            )
        parts.append(
            format_html(
                '<text class="label" x="{}" y="{}" text-anchor="middle">{}</text>',
                x0 + 24,
                top + plot + 16,
                s.label,
            )
        )
        parts.append(
            format_html_join(
                "",
                '<text class="marker" x="{}" y="{}" text-anchor="middle"><title>CA {} expires '
                "in {}</title>▲ {}</text>",
                (
                    (x0 + 24, top + plot + 32 + 14 * i, ca, s.label, ca)
                    for i, ca in enumerate(s.markers)
                ),
            )
        )
    return _svg(chart_id, title, width, height, mark_safe("".join(parts)))  # noqa: S308 - parts are format_html output
