"""Reading digests back out of the SMTP server."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from django.core.management import call_command

from notifications.links import unsubscribe_url
from notifications.tokens import make_unsubscribe_token

GOLDEN = Path(__file__).parent / "golden"


def plain_text(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html(message) -> str:
    return message.get_body(("html",)).get_content()


def golden(name: str, subscription, recipient: str) -> str:
    """The golden text with this recipient's own unsubscribe link put in."""
    link = unsubscribe_url(make_unsubscribe_token(subscription, recipient))
    return (GOLDEN / name).read_text().replace("{unsubscribe_url}", link)


def send_digests(*args) -> str:
    out = StringIO()
    call_command("send_digests", *args, stdout=out)
    return out.getvalue()
