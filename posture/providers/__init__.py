"""The provider seam: one module per cloud provider behind one interface (base.Provider),
and the registry that finds an endpoint's provider by name.

An endpoint whose provider is not registered raises UnknownProvider, never falls back to
another provider's commands. docs/adding-a-provider.md walks through adding one.
"""

from __future__ import annotations

from inventory.sources.clouds import UnknownProvider
from posture.providers import aliyun, aws
from posture.providers.base import Provider

__all__ = ["Provider", "UnknownProvider", "provider_for", "register", "registered", "unregister"]

_REGISTRY: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    if not provider.name:
        raise ValueError(f"{type(provider).__name__} has no name")
    _REGISTRY[provider.name] = provider
    return provider


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def registered() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def provider_for(name: str) -> Provider:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(registered())
        raise UnknownProvider(
            f"no provider module is registered for {name!r} (posture/providers/ has {known})"
        ) from None


register(aws.PROVIDER)
register(aliyun.PROVIDER)
