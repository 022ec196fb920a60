"""Digests to Slack, Microsoft Teams, a generic webhook or any Apprise URL.

One target per subscription besides its e-mail recipients, sent through Apprise with the
same digest, period claim and failure handling as e-mail (services.py): a target that does
not answer, or answers with an error, is "failed" and retried by the next run within the
period; one that is not allowed (below) is "refused" and not retried.

A target's URL carries its secret (Slack's and Teams' webhook paths are the credential), so
it is stored encrypted with TLSPOSTURE_SECRET_KEYS, never shown again, and never written to
a log or an error: Apprise's own log goes nowhere (settings LOGGING), and what it says about
a failure is kept only after every part of the URL is cut out (`redact`). It travels only
over verified TLS: plain http is accepted for loopback test receivers only, and Apprise's
`verify=no` is refused.

Who may add which target (README "Security"): staff, any target; other users only a Slack,
Teams or webhook URL under one of the prefixes the operator lists in
TLSPOSTURE_DIGEST_ALLOWED_WEBHOOKS (e.g. the organisation's Slack workspace,
`https://hooks.slack.com/services/T0123ABCD/`) — never an arbitrary URL, which would let them
send fleet data anywhere. The sender checks again, so a target stored before the rule, or
whose owner lost staff, receives nothing.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit

import apprise
from django.conf import settings
from django.template.loader import render_to_string

from common import secret_box
from common.plain_http import is_loopback_host
from common.plain_http import url_problem as plain_http_problem
from notifications import links
from notifications.delivery import FAILED, REFUSED, SENT, Delivery
from notifications.digest import Digest

logger = logging.getLogger(__name__)

SLACK, TEAMS, WEBHOOK, APPRISE = "slack", "teams", "webhook", "apprise"
KINDS = {
    SLACK: "Slack: the incoming-webhook URL (https://hooks.slack.com/services/…)",
    TEAMS: "Microsoft Teams: the Workflows webhook URL (https://….logic.azure.com/workflows/…)",
    WEBHOOK: "Webhook: an https URL that receives the digest as JSON (POST)",
    APPRISE: "Any Apprise URL (discord://, ntfys://, …) — staff only",
}
# The Apprise plugin each kind must parse to: a Slack URL pasted as "Teams" is refused.
_PLUGIN = {SLACK: "NotifySlack", TEAMS: "NotifyWorkflows", WEBHOOK: "NotifyJSON"}
NOT_ALLOWED = "not a target this subscription's owner may use (README: Security)"
# Items per section of a chat message; the digest e-mail and the pages list all of them.
CHAT_ITEMS = 20
# Apprise logs through one process-wide logger: one capture at a time, so a failure's
# reason is never another target's.
_CAPTURE = threading.Lock()


def apprise_url(kind: str, url: str) -> str:
    """What Apprise is given. Slack's and Teams' own https URLs are understood by Apprise as
    they are; a webhook URL becomes Apprise's JSON target, its query kept as query."""
    url = url.strip()
    if kind != WEBHOOK:
        return url
    parts = urlsplit(url)
    scheme = "jsons" if parts.scheme.lower() == "https" else "json"
    query = urlencode([(f"-{key}", value) for key, value in parse_qsl(parts.query)])
    return f"{scheme}://{parts.netloc}{parts.path or '/'}" + (f"?{query}" if query else "")


def _names(value) -> tuple[str, ...]:
    if not value:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def url_problem(kind: str, url: str) -> str | None:
    """Why `url` cannot be a target of `kind`, or None. Names no part of the URL."""
    url = url.strip()
    if kind not in KINDS:
        return "Choose what kind of target this is."
    if not url or any(c.isspace() for c in url):
        return "Enter the URL, without spaces."
    if kind == WEBHOOK:
        problem = plain_http_problem(url)
        if problem:
            return "The webhook URL must be https (plain http only to a loopback test host)."
    try:
        plugin = apprise.Apprise.instantiate(apprise_url(kind, url))
    except Exception:  # any parse failure: "not a URL Apprise knows"
        plugin = None
    expected = _PLUGIN.get(kind)
    if expected and (plugin is None or type(plugin).__name__ != expected):
        return f"This is not a URL for {KINDS[kind].split(':')[0]}."
    if plugin is None:
        return "Apprise does not recognise this URL (see https://appriseit.com/services/)."
    if not getattr(plugin, "verify_certificate", True):
        return "Certificate verification must stay on: remove verify=no from the URL."
    scheme = urlsplit(apprise_url(kind, url)).scheme.lower()
    insecure = set(_names(getattr(plugin, "protocol", None))) - set(
        _names(getattr(plugin, "secure_protocol", None))
    )
    if scheme in insecure and not is_loopback_host(urlsplit(apprise_url(kind, url)).hostname):
        secure = ", ".join(f"{name}://" for name in _names(plugin.secure_protocol))
        return (
            "This URL would carry its secret unencrypted: use "
            f"{secure or 'a TLS scheme'} (plain only to a loopback test host)."
        )
    return None


def allowed_prefixes() -> list[str]:
    return [p.strip() for p in settings.TLSPOSTURE.get("DIGEST_ALLOWED_WEBHOOKS", []) if p]


def _port(parts) -> int | None:
    try:
        return parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower())
    except ValueError:
        return -1


def _under(url: str, prefix: str) -> bool:
    """`url` is `prefix` or below it: same scheme, host and port, no user info, and a path
    that continues the prefix's at a segment boundary."""
    try:
        target, allowed = urlsplit(url.strip()), urlsplit(prefix)
    except ValueError:
        return False
    if target.username or target.password or not allowed.hostname:
        return False
    if (target.scheme.lower(), target.hostname, _port(target)) != (
        allowed.scheme.lower(),
        allowed.hostname,
        _port(allowed),
    ):
        return False
    base = allowed.path if allowed.path.endswith("/") else allowed.path + "/"
    return (target.path + "/").startswith(base)


def may_target(owner, kind: str, url: str) -> bool:
    if owner.is_staff:
        return True
    if kind == APPRISE:
        return False
    return any(_under(url, prefix) for prefix in allowed_prefixes())


def what_owner_may_target(owner) -> str:
    if owner.is_staff:
        return "As staff you may add any target."
    prefixes = allowed_prefixes()
    if not prefixes:
        return (
            "Only staff add chat and webhook targets here (TLSPOSTURE_DIGEST_ALLOWED_WEBHOOKS "
            "lists none for others): ask staff."
        )
    return "Chat and webhook targets must start with " + " or ".join(prefixes) + "."


# -- the message ----------------------------------------------------------------------


def chat_message(subscription, digest: Digest, *, period: str) -> tuple[str, str]:
    """(title, Markdown body): the e-mail's subject and contents, sections cut at
    CHAT_ITEMS with a link to the rest."""
    context = {
        "subscription": subscription,
        "digest": digest,
        "period": period,
        "time_zone": subscription.time_zone,
        "limit": CHAT_ITEMS,
        "certificates_url": links.certificates_url(),
        "findings_url": links.findings_url(),
        "subscriptions_url": links.subscriptions_url(),
    }
    title = " ".join(render_to_string("notifications/emails/digest-subject.txt", context).split())
    body = render_to_string("notifications/chat/digest.md", context)
    lines = [line.rstrip() for line in body.strip().splitlines()]
    return title, re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


# -- sending --------------------------------------------------------------------------


def _secret_parts(*urls: str) -> list[str]:
    parts = set(urls)
    for url in urls:
        try:
            split = urlsplit(url)
        except ValueError:
            continue
        parts.update(filter(None, (split.netloc, split.hostname, split.username)))
        parts.update(filter(None, (split.password, split.query, split.fragment)))
        parts.update(filter(None, split.path.split("/")))
        parts.update(value for _, value in parse_qsl(split.query))
    return sorted((p for p in parts if len(p) >= 4), key=len, reverse=True)


def redact(text: str, *urls: str) -> str:
    """`text` without any URL, request path, or part of `urls` (their secret)."""
    for part in _secret_parts(*urls):
        text = text.replace(part, "***")
    text = re.sub(r"\b[a-z][a-z0-9+.-]*://\S+", "<url>", text, flags=re.IGNORECASE)
    text = re.sub(r"(url: )\S+", r"\1<path>", text)
    return " ".join(text.split())[:300]


def _failure_lines(log: str) -> str:
    """Apprise's warnings, and the exception behind a connection failure (logged at DEBUG
    next to the payload, which stays out)."""
    kept = []
    for line in log.splitlines():
        level, _, message = line.partition(" ")
        if level in ("WARNING", "ERROR", "CRITICAL") or "Exception" in message:
            kept.append(message)
    return " ".join(kept)


def channel_delivery(subscription, digest: Digest, *, period: str) -> Delivery:
    """Send this period's digest to the subscription's chat or webhook target."""
    key = subscription.channel_key
    try:
        url = secret_box.decrypt(subscription.channel_url_encrypted)
    except secret_box.Undecryptable:
        return Delivery(
            key,
            FAILED,
            "the stored URL cannot be decrypted with TLSPOSTURE_SECRET_KEYS (was its key "
            "removed?); set the target again",
        )
    if not may_target(subscription.owner, subscription.channel, url):
        return Delivery(key, REFUSED, NOT_ALLOWED)
    problem = url_problem(subscription.channel, url)
    if problem:
        return Delivery(key, REFUSED, problem)
    target = apprise_url(subscription.channel, url)
    title, body = chat_message(subscription, digest, period=period)
    timeout = settings.TLSPOSTURE.get("WEBHOOK_TIMEOUT", 10.0)
    error = ""
    capture = apprise.LogCapture(level=logging.DEBUG, fmt="%(levelname)s %(message)s")
    with _CAPTURE, capture as captured:
        try:
            plugin = apprise.Apprise.instantiate(target)
            plugin.socket_connect_timeout = plugin.socket_read_timeout = timeout
            sent = plugin.notify(body=body, title=title, body_format=apprise.NotifyFormat.MARKDOWN)
        except Exception as exc:  # a target's failure never stops the others
            sent, error = False, f"{type(exc).__name__}: {exc}"
        said = _failure_lines(captured.getvalue())
    if sent:
        return Delivery(key, SENT)
    reason = redact(f"{said} {error}", url, target) or "the target did not take the digest"
    logger.warning("digest %s to its %s not delivered: %s", subscription.pk, key, reason)
    return Delivery(key, FAILED, reason)
