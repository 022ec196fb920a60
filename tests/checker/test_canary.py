"""Exploit 1 of issue 14: the plaintext canary never discloses its password.

A real MySQL-speaking server on loopback sends the greeting and then the auth switch a
hostile (or impersonated) server would send; it records every byte the checker sends, and
the tests assert that the canary's password is not among them — in clear, or as anything
but a challenge-response scramble. The end-to-end tests run a whole check (probe, canary,
session) from profiles written straight to the database, as rows from before the
credential-name rule would be.
"""

from __future__ import annotations

import hashlib
import socket
import threading

import pytest
from django.conf import settings
from django.utils import timezone

from checker.deadline import Deadline
from checker.models import CheckerProfile
from checker.secret import Login, Secret
from checker.services import run_checks
from checker.session import SessionLimits, try_plaintext_login
from inventory.models import CloudAccount, DBInstance
from posture.models import InstancePosture
from tests.checker.loopback import LoopbackServer, greeting, recv_exactly
from tests.leaks import assert_no_secret

CLIENT_PLUGIN_AUTH = 0x00080000
CANARY_PASSWORD = "canary-Password-0123456789"
SALT = b"0123456789abcdefghij"
OK = b"\x00\x00\x00\x02\x00\x00\x00"


class RecordingMySQL:
    """Greets with `plugin`, answers the login with `replies` (payloads, in order), records
    every packet the client sends and whether it saw an OK."""

    def __init__(self, plugin: str, replies: list[bytes]):
        self.plugin, self.replies = plugin, replies
        self.packets: list[bytes] = []  # what the client sent, packet by packet
        self.lock = threading.Lock()
        self.server = LoopbackServer(self._serve)

    def __enter__(self):
        self.server.__enter__()
        return self

    def __exit__(self, *exc):
        self.server.__exit__(*exc)

    @property
    def address(self):
        return self.server.address

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def received(self) -> bytes:
        with self.lock:
            return b"".join(self.packets)

    def _record(self, data: bytes) -> None:
        with self.lock:
            self.packets.append(data)

    def _read_packet(self, conn) -> int:
        header = recv_exactly(conn, 4)
        self._record(header + recv_exactly(conn, int.from_bytes(header[:3], "little")))
        return header[3]

    def _serve(self, conn, server):
        conn.sendall(greeting(tls=False, plugin=self.plugin, capabilities=CLIENT_PLUGIN_AUTH))
        seq = self._read_packet(conn)  # the HandshakeResponse (a probe just hangs up)
        for reply in self.replies:
            seq += 1
            conn.sendall(len(reply).to_bytes(3, "little") + bytes([seq % 256]) + reply)
            if reply[:1] in (b"\x00", b"\xff"):  # OK or ERR ends the exchange
                break
            if reply[:2] == b"\x01\x03":  # fast auth succeeded: an OK follows at once
                continue
            seq = self._read_packet(conn)
        conn.settimeout(2)
        while True:  # after a login: answer every command with OK until the client quits
            if not conn.recv(1, socket.MSG_PEEK):
                return
            self._read_packet(conn)
            if self.packets[-1][4:5] == b"\x01":  # COM_QUIT
                return
            conn.sendall(len(OK).to_bytes(3, "little") + b"\x01" + OK)


def switch(plugin: str, data: bytes = SALT + b"\0") -> bytes:
    return b"\xfe" + plugin.encode() + b"\0" + data


def _canary(address):
    return try_plaintext_login(
        address,
        login=Login("tlsp_canary", Secret(CANARY_PASSWORD)),
        limits=SessionLimits(connect_timeout=2, read_timeout=2, write_timeout=2),
        deadline=Deadline(10),
    )


@pytest.mark.parametrize(
    ("greeted_with", "replies", "refused", "packets"),
    [
        ("mysql_native_password", [switch("mysql_clear_password", b"")], "mysql_clear_password", 1),
        ("mysql_native_password", [switch("dialog", b"\x04Password: ")], "dialog", 1),
        ("mysql_native_password", [switch("sha256_password")], "sha256_password", 1),
        # sha256_password from the start: the client only asks for the key (0x01), then the
        # server sends one; encrypting the password to it is what must not happen.
        ("sha256_password", [b"\x01-----BEGIN PUBLIC KEY-----\n"], "sha256_password", 1),
        (
            "caching_sha2_password",
            [b"\x01\x04"],  # after the scramble: "perform full authentication"
            "caching_sha2_password full authentication",
            1,
        ),
        (
            "mysql_native_password",
            [switch("caching_sha2_password"), b"\x01\x04"],
            "caching_sha2_password full authentication",
            2,  # the handshake and the scramble
        ),
    ],
)
def test_the_canary_refuses_an_auth_switch_that_would_disclose_it(
    greeted_with, replies, refused, packets
):
    with RecordingMySQL(greeted_with, replies) as server:
        result = _canary(server.address)
    assert result.attempted is True and result.accepted is None
    assert result.reason == f"canary refused: the server asked for {refused}"
    assert b"tlsp_canary" in server.received  # the login did reach this server
    assert_no_secret(server.received, CANARY_PASSWORD)
    # Nothing after the refused request: no key request, no password encrypted to a key
    # the server chose (which no byte comparison would recognise).
    assert len(server.packets) == packets


def test_challenge_response_plugins_still_log_in():
    """A native scramble and caching_sha2's fast path keep the password on the client."""
    native = [switch("mysql_native_password"), OK]
    with RecordingMySQL("mysql_native_password", native) as server:
        result = _canary(server.address)
    assert (result.accepted, result.reason) == (True, "a login without TLS succeeded")
    assert_no_secret(server.received, CANARY_PASSWORD)

    with RecordingMySQL("caching_sha2_password", [b"\x01\x03", OK]) as server:
        result = _canary(server.address)
    assert result.accepted is True
    assert_no_secret(server.received, CANARY_PASSWORD)
    assert hashlib.sha256(CANARY_PASSWORD.encode()).digest() not in server.received


# -- exploit 1 end to end: a whole check run, profiles written straight to the database ----


def _target(port: int, **profile) -> DBInstance:
    account = CloudAccount.objects.create(name="prod-aws", provider="aws")
    now = timezone.now()
    instance = DBInstance.objects.create(
        account=account,
        provider="aws",
        region="us-east-1",
        identifier="orders-db",
        resource_id="arn:aws:rds:us-east-1:111111111111:db:orders-db",
        engine="mysql",
        endpoint_host="orders-db.abc.us-east-1.rds.amazonaws.com",
        endpoint_port=3306,
        first_seen=now,
        last_seen=now,
    )
    CheckerProfile.objects.create(
        name="attacker",
        match="prod-aws/*",
        canary_username="tlsp_canary",
        connect_host="127.0.0.1",
        connect_port=port,
        **profile,
    )
    return instance


@pytest.mark.django_db
@pytest.mark.parametrize("variable", ["SECRET_KEY", "TLSPOSTURE_SECRET_KEYS"])
def test_exploit_1_a_canary_aimed_at_a_process_secret_sends_nothing(variable, monkeypatch):
    monkeypatch.setenv("TLSPOSTURE_SECRET_KEYS", ",".join(settings.TLSPOSTURE["SECRET_KEYS"]))
    with RecordingMySQL("mysql_native_password", [switch("mysql_clear_password", b"")]) as server:
        instance = _target(server.port, canary_password_env=variable)
        run = run_checks([instance], workers=1)
    login = run.observations.get().evidence["session"]["plaintext_login"]
    assert login["attempted"] is False
    assert f"{variable} is one of tlsposture's own settings variables" in login["reason"]
    assert b"tlsp_canary" not in server.received  # the probe came; the canary never did
    assert_no_secret(server.received, settings.SECRET_KEY, *settings.TLSPOSTURE["SECRET_KEYS"])


@pytest.mark.django_db
def test_exploit_1_a_legitimate_canary_asked_for_its_password_in_clear(monkeypatch):
    monkeypatch.setenv("TLSPOSTURE_CRED_CANARY", CANARY_PASSWORD)
    with RecordingMySQL("mysql_native_password", [switch("mysql_clear_password", b"")]) as server:
        instance = _target(server.port, canary_password_env="TLSPOSTURE_CRED_CANARY")
        run = run_checks([instance], workers=1)
    login = run.observations.get().evidence["session"]["plaintext_login"]
    assert login == {
        "attempted": True,
        "accepted": None,
        "error_code": None,
        "reason": "canary refused: the server asked for mysql_clear_password",
    }
    assert b"tlsp_canary" in server.received
    assert_no_secret(server.received, CANARY_PASSWORD)
    posture = InstancePosture.objects.get(instance=instance)
    assert posture.undetermined["transport.plaintext_login_accepted"] == (
        "plaintext-login canary: canary refused: the server asked for mysql_clear_password"
    )
