"""How an account reaches its cloud API: https, or plain http to a loopback test server.

One check for the admin (CloudAccount.clean), `import_accounts` and the sources right
before they build an SDK client, so an account stored before the rule cannot send its keys
in clear either (common/plain_http.py).
"""

from __future__ import annotations

from common.plain_http import host_of, scheme_problem, url_problem
from inventory.facts import SourceError


def api_transport_problems(account) -> dict[str, str]:
    """{field: why} for an account (or anything with its attributes); empty when safe."""
    problems = {}
    endpoint_url = getattr(account, "endpoint_url", "") or ""
    endpoint = getattr(account, "endpoint", "") or ""
    protocol = getattr(account, "protocol", "") or "https"
    if endpoint_url:
        problem = url_problem(endpoint_url)
        if problem:
            problems["endpoint_url"] = f"endpoint_url {endpoint_url}: {problem}"
    if protocol != "https":
        problem = scheme_problem(protocol, host_of(endpoint))
        if problem:
            problems["protocol"] = (
                f"protocol {protocol} to endpoint {endpoint or '(default)'}: {problem}"
            )
    return problems


def require_safe_api_transport(account) -> None:
    """Raise SourceError before any request when the account would send its keys in clear."""
    problems = api_transport_problems(account)
    if problems:
        raise SourceError("; ".join(problems.values()) + " (nothing was sent)")
