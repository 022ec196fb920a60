"""Cloud inventory sources. Each turns SDK responses into inventory.facts dataclasses.

A source object offers:
    regions() -> list[str]                     the account's regions, configured or discovered
    fetch_region(region) -> RegionInventory    raises SourceError with a user-safe reason
"""

from __future__ import annotations

from typing import Protocol

from inventory.facts import RegionInventory


class InventorySource(Protocol):
    def regions(self) -> list[str]: ...

    def fetch_region(self, region: str) -> RegionInventory: ...


def source_for(account) -> InventorySource:
    """The source for a CloudAccount (or anything with the same attributes)."""
    if account.provider == "aws":
        from inventory.sources.aws import AwsSource

        return AwsSource(account)
    if account.provider == "aliyun":
        from inventory.sources.aliyun import AliyunSource

        return AliyunSource(account)
    raise ValueError(f"unknown provider {account.provider!r}")
