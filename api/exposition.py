"""The Prometheus text format, written while the collector reads: memory stays one chunk.

prometheus_client's `generate_latest()` renders (and escapes) each chunk the collector
yields; a chunk that continues the family before it loses its HELP and TYPE lines, so
every family has them once, as the format requires.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.core import Metric

# The classic text format: what Prometheus 2.x and every other scraper reads.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


class _One:
    """A registry of one metric, as `generate_latest()` takes it."""

    def __init__(self, metric: Metric):
        self.metric = metric

    def collect(self):
        return [self.metric]


def stream(collector) -> Iterator[bytes]:
    family = None
    for metric in collector.collect():
        text = generate_latest(_One(metric))
        if metric.name == family:
            text = text.split(b"\n", 2)[2]  # "# HELP …\n# TYPE …\n" went out with its start
        family = metric.name
        yield text
