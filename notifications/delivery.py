"""Hand digest messages to the mail server, one recipient each, and say what became of each.

A 5xx answer to an address (RCPT TO) or to its message (DATA) is permanent ("refused":
retrying cannot help). Anything else is temporary ("failed": the next run tries that
address again) — a 4xx, a refused connection, a dropped session, and also a refused sender
or login, which are faults of our configuration, not of the address.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.core.mail import EmailMessage, get_connection

logger = logging.getLogger(__name__)

SENT = "sent"
REFUSED = "refused"
FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    address: str
    outcome: str  # SENT, REFUSED or FAILED
    reason: str = ""


def deliver(messages: Iterable[EmailMessage]) -> Iterator[Delivery]:
    """Send each single-recipient message over one connection (reopened after a drop),
    yielding each outcome at once so the caller can record it before the next send."""
    connection = get_connection(fail_silently=False)
    unreachable = ""
    try:
        for message in messages:
            (address,) = message.to
            if not unreachable:
                try:
                    # Opened here, not by send_messages, so one session carries them all.
                    connection.open()
                except (smtplib.SMTPException, OSError) as exc:
                    # Down, or our login refused: waiting out a connect timeout per
                    # recipient would not help. All of them are retried on the next run.
                    unreachable = _reason(exc)
                    logger.warning("mail server not usable: %s", unreachable)
            if unreachable:
                yield Delivery(address, FAILED, unreachable)
            else:
                yield _send_one(connection, message, address)
    finally:
        connection.close()


def _send_one(connection, message: EmailMessage, address: str) -> Delivery:
    try:
        connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = exc.recipients.get(address, (0, b""))
        return _answered(address, code, text)
    except smtplib.SMTPDataError as exc:
        return _answered(address, exc.smtp_code, exc.smtp_error)
    except (smtplib.SMTPException, OSError) as exc:
        # The session may be unusable now; the next message opens a fresh one.
        connection.close()
        logger.warning("digest to %s not delivered: %s", address, _reason(exc))
        return Delivery(address, FAILED, _reason(exc))
    return Delivery(address, SENT)


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _answered(address: str, code: int, text: bytes | str) -> Delivery:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    reason = f"{code} {text}"[:300]
    outcome = REFUSED if 500 <= code < 600 else FAILED
    logger.warning("digest to %s %s by the mail server: %s", address, outcome, reason)
    return Delivery(address, outcome, reason)
