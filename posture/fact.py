"""One posture fact: its value, raw value, source and time, or why it is unknown.

The currency of posture/effective.py and the providers' readings (posture/providers/):
docs/design.md "Evidence and precedence". Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from common.timeutil import iso_z

LIVE_VARIABLE = "live-variable"
LIVE_WIRE = "live-wire"
LIVE_LOGIN = "live-login"
ENGINE_DEFAULT = "engine-default"
ENGINE_VERSION = "engine-version"
APSARADB_SSL = "api:apsaradb-ssl"
PROXY_API = "api:proxy"


@dataclass(frozen=True)
class Fact:
    """One posture fact. `value` None means unknown, and `reason` says why."""

    value: object = None
    raw: object = None
    source: str = ""
    at: datetime | None = None
    reason: str = ""
    stale: bool = False
    source_name: str = ""
    absent: bool = False  # the server does not know the variable (error 1193)

    @property
    def known(self) -> bool:
        return self.value is not None

    def evidence(self) -> dict:
        data = {"raw": self.raw, "value": self.value, "source": self.source or None}
        data["at"] = iso_z(self.at)
        if self.source_name:
            data["source_name"] = self.source_name
        if self.stale:
            data["stale"] = True
        if self.absent:
            data["absent"] = True
        if not self.known and self.reason:
            data["reason"] = self.reason
        return data


def unknown(reason: str) -> Fact:
    return Fact(reason=reason)
