"""Trust bundles: download a provider's CA bundle, check it, install it, say what it holds.

A bundle decides which servers the checker believes, so a download is only accepted when
it parses as PEM certificates that are all CAs, it arrives over HTTPS (plain HTTP only
from a loopback test server) — every redirect and the final URL included: a redirect that
leaves HTTPS is refused — and it replaces the old file atomically; a failed download leaves
the old bundle exactly as it was.
"""

from __future__ import annotations

import os
import ssl
import tempfile
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from common.plain_http import url_problem
from inventory.sources.clouds import ProxyRoots

MAX_BUNDLE_BYTES = 4 * 1024 * 1024
_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"


class BundleError(Exception):
    """Why a bundle was not installed; the old file, if any, is untouched."""


@dataclass(frozen=True)
class BundleCA:
    subject: str
    not_after: datetime

    def days_left(self, now: datetime | None = None) -> int:
        return (self.not_after - (now or datetime.now(UTC))).days

    def expired(self, now: datetime | None = None) -> bool:
        return self.not_after <= (now or datetime.now(UTC))


def _transport_problem(url: str, came_from: str | None = None) -> str | None:
    if came_from and urlsplit(came_from).scheme == "https" and urlsplit(url).scheme != "https":
        return "the redirect leaves HTTPS"
    problem = url_problem(url)
    return problem and f"a trust bundle is only fetched over HTTPS ({problem})"


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        problem = _transport_problem(newurl, came_from=req.full_url)
        if problem:
            raise BundleError(f"refusing the redirect from {req.full_url} to {newurl}: {problem}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def download(url: str, *, timeout: float = 30.0) -> bytes:
    problem = _transport_problem(url)
    if problem:
        raise BundleError(f"refusing {url}: {problem}")
    opener = urllib.request.build_opener(_CheckedRedirects)
    try:
        with opener.open(url, timeout=timeout) as response:
            final = response.geturl()
            problem = _transport_problem(final, came_from=url)
            if problem:
                raise BundleError(f"refusing {final} (reached from {url}): {problem}")
            data = response.read(MAX_BUNDLE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise BundleError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise BundleError(f"cannot download {url}: {exc.reason}") from None
    except (TimeoutError, OSError) as exc:
        raise BundleError(f"cannot download {url}: {exc}") from None
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError(f"{url} is larger than {MAX_BUNDLE_BYTES} bytes: not a CA bundle")
    return data


def parse_bundle(data: bytes) -> list[BundleCA]:
    if _PEM_BEGIN not in data:
        raise BundleError("the download holds no PEM certificate")
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise BundleError(f"the download is not valid PEM: {exc}") from None
    authorities = []
    for cert in certificates:
        subject = cert.subject.rfc4514_string()
        try:
            constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
            is_ca = constraints.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            raise BundleError(f"{subject} in the download is not a CA certificate")
        authorities.append(BundleCA(_display_name(cert), cert.not_valid_after_utc))
    return authorities


def _display_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def install(data: bytes, target: Path) -> None:
    """Write `data` to `target` atomically (same-directory temp file, then rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ---- proxies: public roots from the local trust store -------------------------------------

# A provider's proxies may chain to public roots rather than to its database CAs (RDS Proxy:
# Amazon Trust Services, docs/reference/aws-rds.md "Defaults and limits"); which ones is the
# provider's fact (inventory.sources.clouds.ProxyRoots). They are picked out by subject.


def trust_store_files() -> list[tuple[str, str]]:
    """(label, path) of the local trust stores to look in: the system's, then certifi's."""
    found = []
    system = ssl.get_default_verify_paths().cafile
    if system and Path(system).is_file():
        found.append(("the system trust store", system))
    try:
        import certifi  # a dependency of botocore and requests
    except ImportError:  # pragma: no cover - always installed with botocore
        certifi = None
    if certifi is not None:
        found.append(("certifi", certifi.where()))
    return found


def proxy_root_cas(roots: ProxyRoots) -> tuple[bytes, str]:
    """PEM of `roots` from the first local store that has any, and which store."""
    for label, path in trust_store_files():
        try:
            with warnings.catch_warnings():  # a store may hold certificates cryptography frowns on
                warnings.simplefilter("ignore")
                certificates = x509.load_pem_x509_certificates(Path(path).read_bytes())
        except (OSError, ValueError):
            continue
        wanted = [cert for cert in certificates if _is_root_of(cert, roots)]
        if wanted:
            pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in wanted)
            return pem, f"{label} ({path})"
    name = roots.common_names[0].rsplit(" ", 1)[0]  # "Amazon Root CA"
    raise BundleError(
        f"no {name} found in the system trust store or certifi; download them from "
        f"{roots.issuer} and pass the file as {roots.setting}"
    )


def _is_root_of(cert: x509.Certificate, roots: ProxyRoots) -> bool:
    organisations = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    issued = any(o.value == roots.organisation for o in organisations)
    return issued and _display_name(cert) in roots.common_names


def default_proxy_bundle(directory: Path, roots: ProxyRoots) -> str:
    """`roots` as a file for the checker: `directory`/<file_name>, which `fetch_ca_bundle`
    installs, else written there from the local store. "" when neither the store has them
    nor the file can be written (the trust verdict then says so)."""
    target = directory / roots.file_name
    if target.is_file():
        return str(target)
    try:
        pem, _ = proxy_root_cas(roots)
        install(pem, target)
    except (BundleError, OSError):
        return ""
    return str(target)
