"""The writer of client evidence: what each check saw of an endpoint's clients, kept for
TLSPOSTURE_CLIENT_WINDOW_DAYS (docs/design.md "Client readiness").

Each logged-in check adds one ClientReadout (named or counted or why neither) and folds its
named connections into the endpoint's ClientSighting rows (account@host per TLS version):
a connection that stays open across checks counts once. Rows older than the window go.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from checker.client_counts import count_between
from checker.evidence import SESSION_OK, Evidence
from checker.models import ClientReadout, ClientSighting


def client_window() -> timedelta:
    return timedelta(days=int(settings.TLSPOSTURE["CLIENT_WINDOW_DAYS"]))


def record_clients(
    instance_id: int, evidence: Evidence, checked_at: datetime, observation=None
) -> ClientReadout | None:
    """Fold one check's client readout in; None when the check did not log in."""
    session = evidence.session
    if session.outcome != SESSION_OK:
        return None
    clients = session.clients
    previous = (
        ClientReadout.objects.filter(instance_id=instance_id, checked_at__lt=checked_at)
        .exclude(counters={})
        .order_by("-checked_at")
        .first()
    )
    counted = (
        count_between(previous.counters, clients.counters, clients.own_plaintext)
        if previous is not None
        else None
    )
    readout = ClientReadout.objects.create(
        instance_id=instance_id,
        observation=observation,
        checked_at=checked_at,
        state=clients.state,
        reason=clients.reason or clients.counters_reason,
        counted_connections=counted.connections if counted else None,
        counted_without_tls=counted.without_tls if counted else None,
        counters=clients.counters,
    )
    if clients.state == "ok":
        _fold_sightings(instance_id, clients.connections, checked_at)
    horizon = checked_at - client_window()
    ClientReadout.objects.filter(instance_id=instance_id, checked_at__lt=horizon).delete()
    ClientSighting.objects.filter(instance_id=instance_id, last_seen__lt=horizon).delete()
    return readout


def _fold_sightings(instance_id: int, connections, checked_at: datetime) -> None:
    seen: dict[tuple[str, str, str], list] = {}
    for connection in connections:
        key = (connection.user, connection.host, connection.tls_version or "")
        seen.setdefault(key, []).append(connection)
    existing = {
        (row.user, row.host, row.tls_version): row
        for row in ClientSighting.objects.filter(instance_id=instance_id)
    }
    for key, group in seen.items():
        ids = sorted({c.connection_id for c in group if c.connection_id is not None})
        cipher = next((c.tls_cipher for c in group if c.tls_cipher), "") or ""
        row = existing.get(key)
        if row is None:
            ClientSighting.objects.create(
                instance_id=instance_id,
                user=key[0][:100],
                host=key[1][:255],
                tls_version=key[2][:16],
                tls_cipher=cipher[:100],
                connections=len(ids) or len(group),
                checks=1,
                first_seen=checked_at,
                last_seen=checked_at,
                connection_ids=ids,
            )
            continue
        if checked_at <= row.last_seen:
            continue  # an older check arriving late adds nothing newer
        new = [i for i in ids if i not in set(row.connection_ids or [])]
        row.connections += len(new)
        row.checks += 1
        row.last_seen = checked_at
        row.tls_cipher = cipher[:100] or row.tls_cipher
        row.connection_ids = ids
        row.save(
            update_fields=["connections", "checks", "last_seen", "tls_cipher", "connection_ids"]
        )
