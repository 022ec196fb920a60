"""The metric names a PromQL expression reads (enough for our own rules and panels)."""

from __future__ import annotations

import re

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_NAME = re.compile(r"\b(tlsposture_[a-z0-9_]+|up)\b")


def metric_names(expr: str) -> set[str]:
    """Every `tlsposture_…` name (and `up`) outside string literals: label values such as
    id="clients.plaintext_observed" are not metric names."""
    return set(_NAME.findall(_STRINGS.sub('""', expr)))
