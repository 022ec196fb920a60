"""One digest e-mail for one recipient: subject, plain text and HTML from three templates.

Each recipient gets an own message, so the one-click unsubscribe link in it removes only
that address, and a refused address cannot hold up the others.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from notifications import links
from notifications.digest import Digest
from notifications.models import DigestSubscription
from notifications.tokens import make_unsubscribe_token

_TEMPLATES = "notifications/emails/digest-"


def digest_message(
    subscription: DigestSubscription, digest: Digest, *, period: str, recipient: str
) -> EmailMultiAlternatives:
    unsubscribe = links.unsubscribe_url(make_unsubscribe_token(subscription, recipient))
    context = {
        "subscription": subscription,
        "digest": digest,
        "period": period,
        "time_zone": subscription.time_zone,
        "certificates_url": links.certificates_url(),
        "findings_url": links.findings_url(),
        "subscriptions_url": links.subscriptions_url(),
        "unsubscribe_url": unsubscribe,
    }
    subject = " ".join(render_to_string(_TEMPLATES + "subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=_tidy(render_to_string(_TEMPLATES + "body.txt", context)),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
        headers={
            # RFC 8058 one-click: the mail client POSTs to the link without a session.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string(_TEMPLATES + "body.html", context), "text/html")
    return message


def _tidy(text: str) -> str:
    """Template tags leave trailing blanks and runs of empty lines; plain text keeps neither."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"
