"""The interface every provider module implements: how to change things on its endpoints
(parameters, TLS enforcement, certificates, reboots) and the provider's own facts that the
rules read (an enforcement fact of its own, the permissions its lookups need, which CAs it
has retired).

The finding rules and remediation builders (posture/rules_*.py, posture/remediation.py)
call these methods and never ask which provider an endpoint is on, so a new provider is a
new module here plus its registration (docs/adding-a-provider.md). Pure: facts in, text out.
"""

from __future__ import annotations

import shlex
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING

from common import engines
from posture.fact import Fact
from posture.facts import InstanceFacts

if TYPE_CHECKING:
    from posture.effective import EffectiveFacts


def q(value: str) -> str:
    """A shell word: commands are copied into a terminal as they are shown."""
    return shlex.quote(value)


class Provider(ABC):
    name: str = ""  # DBInstance.provider
    # InstanceFacts.lookup_errors key → the cloud permission that reads it (as IAM/RAM spell
    # it), and the same for endpoints whose parameters live at cluster level.
    permissions: Mapping[str, str] = {}
    cluster_permissions: Mapping[str, str] = {}
    # CA identifiers the provider has retired (ca.deprecated), lower case.
    retired_cas: frozenset[str] = frozenset()
    # How the provider's command-line tool starts: what a fix plan runs as a command, not
    # as a `#` comment (posture/fix_plan.py).
    cli_prefixes: tuple[str, ...] = ()

    # ---- parameters --------------------------------------------------------------------

    @abstractmethod
    def change_parameters(self, facts: InstanceFacts, values: dict[str, str]) -> str:
        """The commands (and console path) that set `values` ({parameter: value})."""

    def is_dynamic(self, facts: InstanceFacts, name: str) -> bool:
        """Whether a change applies without a restart: as the API states it for this
        parameter, else as the engine says (only the enforcement parameter is dynamic)."""
        parameter = facts.parameter(name)
        if parameter and parameter.apply_type:
            return parameter.apply_type.lower() == "dynamic"
        return name in engines.dynamic_parameters()

    def group_changed(self, facts: InstanceFacts) -> str:
        """The existing parameter group a parameter change modifies, which other endpoints
        may share; "" where the change makes a new group or is made per instance."""
        return ""

    def restart_reasons(
        self, effective: EffectiveFacts, *, parameters: list[str], certificate: bool
    ) -> list[str]:
        """Why a fix plan restarts the endpoint: the `parameters` it changes (the static
        ones apply only at a restart), and whether it changes the server certificate or CA."""
        static = [name for name in parameters if not self.is_dynamic(effective.facts, name)]
        if static:
            return [f"{', '.join(static)}: static, applied only when the server restarts"]
        return []

    def ca_clients_must_trust(self, effective: EffectiveFacts, *, rotation: str) -> str:
        """The CA that clients verifying the server must trust before the certificate
        changes; "" when they already do. `rotation`: "ca" (move to a sound CA), "pending"
        (apply the pending rotation) or "renew" (a new server certificate)."""
        return ""

    def managed_tls_note(self, facts: InstanceFacts) -> str | None:
        """Where the provider, not a parameter, decides protocol versions and suites (a
        managed proxy): what to do instead. None where parameters decide."""
        return None

    # ---- transport ---------------------------------------------------------------------

    @abstractmethod
    def enforce_tls(self, effective: EffectiveFacts) -> str:
        """Make the endpoint refuse connections without TLS."""

    @abstractmethod
    def enable_tls(self, effective: EffectiveFacts) -> str:
        """Make the endpoint offer TLS at all."""

    def enforcement_values(self, effective: EffectiveFacts) -> dict[str, str] | None:
        """The parameter values that enforce TLS, where a parameter change alone does it
        (so a fix plan merges it with the other parameter changes); None otherwise."""
        return None

    def transport_enforced(self, effective: EffectiveFacts, variable: Fact) -> Fact:
        """Whether transport is enforced, given the running enforcement parameter
        (`variable`); a provider with an enforcement switch of its own combines the two."""
        return variable

    def tls_evidence(self, effective: EffectiveFacts) -> dict:
        """The provider's own facts behind tls.unavailable (none by default)."""
        return {}

    def enforcement_evidence(self, effective: EffectiveFacts) -> dict:
        """The provider's own facts behind transport.not_enforced (none by default)."""
        return {}

    # ---- certificates and CAs ----------------------------------------------------------

    @abstractmethod
    def renew_certificate(self, effective: EffectiveFacts) -> str:
        """A new server certificate (expired, expiring, self-signed, weak)."""

    @abstractmethod
    def rotate_ca(self, effective: EffectiveFacts) -> str:
        """Move the endpoint to a sound CA (expired, expiring or retired CA)."""

    @abstractmethod
    def apply_pending_rotation(self, effective: EffectiveFacts, evidence: dict) -> str:
        """Carry out the pending rotation or renewal `evidence` lists now."""

    @abstractmethod
    def fix_hostname(self, effective: EffectiveFacts) -> str:
        """Make the certificate and the name clients verify agree."""

    @abstractmethod
    def trust_bundle_hint(self, effective: EffectiveFacts, bundle: str) -> str:
        """Which trust bundle verifies this endpoint, in place of `bundle`."""

    def tracks_ca(self, facts: InstanceFacts) -> bool:
        """Whether the API names a CA for this endpoint whose validity is tracked."""
        return False

    # ---- the server --------------------------------------------------------------------

    @abstractmethod
    def reboot(self, effective: EffectiveFacts) -> str:
        """Restart the endpoint (every instance behind it) so static parameters apply."""

    def replication_note(self, effective: EffectiveFacts, *, new_syntax: bool) -> str | None:
        """What to do instead where the provider forbids replication statements."""
        return None

    # ---- evidence ----------------------------------------------------------------------

    def permission(self, facts: InstanceFacts, what: str) -> str:
        """The cloud permission whose absence explains the failed lookup `what`; ""."""
        at_cluster = facts.kind == "cluster" or bool(facts.parent_identifier)
        if at_cluster and what in self.cluster_permissions:
            return self.cluster_permissions[what]
        return self.permissions.get(what, "")
