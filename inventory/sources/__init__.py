"""Cloud inventory sources. Each turns SDK responses into inventory.facts dataclasses.

A source object offers:
    regions() -> list[str]                     the account's regions, configured or discovered
    fetch_region(region) -> RegionInventory    raises SourceError with a user-safe reason
"""

from __future__ import annotations

from typing import Protocol

from inventory.facts import RegionInventory
from inventory.sources.clouds import cloud


class InventorySource(Protocol):
    def regions(self) -> list[str]: ...

    def fetch_region(self, region: str) -> RegionInventory: ...


def source_for(account) -> InventorySource:
    """The source for a CloudAccount (or anything with the same attributes); its SDK is
    imported only now. An unknown provider raises clouds.UnknownProvider."""
    return cloud(account.provider).open_source(account)
