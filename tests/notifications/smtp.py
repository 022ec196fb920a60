"""A real SMTP server on loopback (aiosmtpd) that records what it accepts.

It can refuse chosen recipients with any reply (550 permanent, 451 temporary), hold a
message in the DATA phase until released (a sender caught mid-send), and can be stopped to
make connections fail.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from fleet.mariadb import free_port


@dataclass
class RecordingHandler:
    refuse: dict[str, str] = field(default_factory=dict)  # address -> reply to RCPT TO
    refuse_data: dict[str, str] = field(default_factory=dict)  # address -> reply to DATA
    envelopes: list = field(default_factory=list)
    hold: threading.Event | None = None  # when set up, DATA waits for it to be set
    holding: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hold is not None:
            self.holding.set()
            await asyncio.to_thread(self.hold.wait, 30)
        for address in envelope.rcpt_tos:
            if address in self.refuse_data:
                return self.refuse_data[address]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self):
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.running = False

    def start(self):
        self.controller.start()
        self.running = True

    def stop(self):
        if self.running:
            self.controller.stop()
            self.running = False

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(content, policy=email.policy.default)
            for _, _, content in self.handler.envelopes
        ]

    def recipients(self) -> list[str]:
        return sorted(r for _, rcpts, _ in self.handler.envelopes for r in rcpts)
