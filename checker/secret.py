"""Secrets that cannot leak by accident: no repr, no str, no equality with their content.

A `Secret` travels from the credential resolver to the one place that sends it (inside a
verified TLS session, or the opt-in plaintext canary). Anything printing it — a log line,
an exception, a dataclass repr, evidence JSON — shows a placeholder.

Pure module: no Django imports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


class SecretUnavailable(Exception):
    """A deferred secret could not be produced; the message names no secret."""


class Secret:
    """A password or token. `reveal()` is the only way to the value.

    `factory` defers the value to the moment of use (an RDS IAM token expires after 15
    minutes, so it is signed right before the login, not when the run is planned).
    """

    __slots__ = ("_factory", "_value")

    def __init__(self, value: str | None = None, *, factory: Callable[[], str] | None = None):
        if (value is None) == (factory is None):
            raise ValueError("give a value or a factory")
        self._value = value
        self._factory = factory

    def reveal(self) -> str:
        """The value. A factory signals failure with SecretUnavailable."""
        return self._value if self._factory is None else self._factory()

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a Secret is not serialisable")


@dataclass(frozen=True)
class Login:
    """Who logs in, and with what."""

    username: str
    secret: Secret = field(repr=False)
