"""Read /metrics the way Prometheus does: prometheus_client's own parser of the text format."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def families(text: str) -> dict[str, list]:
    """name → samples (name, labels, value)."""
    return {family.name: list(family.samples) for family in text_string_to_metric_families(text)}


def values(samples, **match) -> dict[str, float]:
    """identifier (or the only varying label) → value, for the samples matching `match`."""
    chosen = [s for s in samples if all(s.labels.get(k) == v for k, v in match.items())]
    return {s.labels.get("identifier") or s.labels.get("region"): s.value for s in chosen}
