"""The demo's certificate authorities and server certificates, kept in the demo directory.

Two trusted hierarchies stand in for the providers' — "demo RDS root CA" → "demo RDS issuing
CA" and "demo ApsaraDB root CA" → "demo ApsaraDB issuing CA" — and their roots are the
accounts' trust bundles. A third, "demo public root CA" → "demo public issuing CA", stands
in for the Amazon Trust Services roots that RDS Proxy certificates chain to: it is in the
AWS accounts' proxy bundle and not in their RDS bundle. "demo private CA" is in no bundle
(the untrusted scenario). Everything minted is written under `<demo dir>/ca` and
`<demo dir>/certs` and reused by the next run as long as it still matches what the world
asks for (names, issuer, key, signature, and an end date close to the wanted one: a
certificate that should expire in five days is minted again once it no longer does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from demo.world import Server
from fleet.certs import Authority, ServerCertificate, make_ca, make_server_cert

CA_YEARS = 20
ROOTS = {
    "rds": "demo RDS root CA",
    "apsaradb": "demo ApsaraDB root CA",
    "public": "demo public root CA",  # stands in for the Amazon Trust Services roots
}
ISSUERS = {
    "rds": "demo RDS issuing CA",
    "apsaradb": "demo ApsaraDB issuing CA",
    "public": "demo public issuing CA",
}
PRIVATE_CA = "demo private CA"


@dataclass(frozen=True)
class Authorities:
    roots: dict[str, Authority]  # "rds" | "apsaradb" | "public" → root
    issuing: dict[str, Authority]  # the same and "private" → signer of leaves
    bundles: dict[str, Path]  # "rds" | "apsaradb" | "public" → trust bundle (the root, PEM)


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _load_authority(directory: Path, name: str, parent: Authority | None) -> Authority | None:
    cert_path = directory / f"{_slug(name)}-cert.pem"
    key_path = directory / f"{_slug(name)}-key.pem"
    if not (cert_path.exists() and key_path.exists()):
        return None
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert.verify_directly_issued_by(parent.cert if parent else cert)
    except (ValueError, TypeError, InvalidSignature):
        return None
    if cert.not_valid_after_utc < datetime.now(UTC) + timedelta(days=365):
        return None
    return Authority(name=name, cert=cert, key=key)


def _authority(directory: Path, name: str, parent: Authority | None = None) -> Authority:
    found = _load_authority(directory, name, parent)
    if found is not None:
        return found
    minted = make_ca(name, parent=parent, expires_in=timedelta(days=365 * CA_YEARS))
    minted.write(directory / f"{_slug(name)}-cert.pem")
    _write_private(directory / f"{_slug(name)}-key.pem", _key_pem(minted.key))
    return minted


def authorities(directory: Path) -> Authorities:
    """Load the demo CAs from `directory`, minting whatever is missing or unusable."""
    directory.mkdir(parents=True, exist_ok=True)
    roots, issuing, bundles = {}, {}, {}
    for kind, root_name in ROOTS.items():
        roots[kind] = _authority(directory, root_name)
        issuing[kind] = _authority(directory, ISSUERS[kind], roots[kind])
        bundles[kind] = roots[kind].write(directory / f"{kind}-bundle.pem")
    issuing["private"] = _authority(directory, PRIVATE_CA)
    return Authorities(roots=roots, issuing=issuing, bundles=bundles)


# ---- server certificates ---------------------------------------------------------------------


def wanted_not_after(server: Server, now: datetime) -> datetime:
    if server.not_after is not None:
        return server.not_after
    return now + timedelta(days=server.valid_days)


def _close_enough(actual: datetime, wanted: datetime, server: Server) -> bool:
    if server.not_after is not None:
        return abs(actual - wanted) < timedelta(seconds=2)
    # A year-long certificate may be weeks older; a five-day one not even a day.
    tolerance = max(timedelta(hours=12), timedelta(days=abs(server.valid_days)) / 20)
    return abs(actual - wanted) <= tolerance


def _key_matches(key, key_type: str) -> bool:
    if key_type.startswith("rsa"):
        return isinstance(key, rsa.RSAPrivateKey) and key.key_size == int(key_type[3:])
    curves = {"ec256": "secp256r1", "ec384": "secp384r1"}
    return isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == curves.get(key_type)


def _signed_by(cert: x509.Certificate, signer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(signer)
        return True
    except InvalidSignature:
        return False
    except ValueError:
        pass  # SHA-1, which `cryptography` no longer verifies itself: check it by hand
    public_key = signer.public_key()
    if cert.issuer != signer.subject or not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        public_key.verify(
            cert.signature,
            cert.tbs_certificate_bytes,
            padding.PKCS1v15(),
            cert.signature_hash_algorithm,
        )
    except InvalidSignature:
        return False
    return True


def _names(cert: x509.Certificate) -> list[str]:
    try:
        extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return extension.value.get_values_for_type(x509.DNSName)


def _reusable(
    directory: Path, server: Server, names: list[str], signer: Authority | None, now: datetime
) -> ServerCertificate | None:
    cert_path, key_path = directory / "server-cert.pem", directory / "server-key.pem"
    if not (cert_path.exists() and key_path.exists()):
        return None
    try:
        leaf, *chain = x509.load_pem_x509_certificates(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (ValueError, TypeError):
        return None
    if not _signed_by(leaf, signer.cert if signer else leaf):
        return None
    signed_with = leaf.signature_hash_algorithm
    if (
        _names(leaf) != names
        or not _key_matches(key, server.key_type)
        or (signed_with.name if signed_with else "") != server.signature_hash
        or not _close_enough(leaf.not_valid_after_utc, wanted_not_after(server, now), server)
    ):
        return None
    return ServerCertificate(cert=leaf, key=key, chain=tuple(chain), issuer=signer)


def server_certificate(
    directory: Path, server: Server, names: list[str], cas: Authorities
) -> tuple[ServerCertificate, bool]:
    """The certificate `server` presents, naming `names`; True when reused from disk."""
    signer = None if server.issuer == "self" else cas.issuing[server.issuer]
    now = datetime.now(UTC).replace(microsecond=0)
    found = _reusable(directory, server, names, signer, now)
    if found is not None:
        return found, True
    # Intermediates travel with the leaf; a root is never sent.
    chain = (signer.cert,) if server.issuer in ROOTS else ()
    not_after = wanted_not_after(server, now)
    minted = make_server_cert(
        names,
        issuer=signer,
        key_type=server.key_type,
        signature_hash=server.signature_hash,
        expires_in=not_after - now,
        chain=chain,
    )
    minted.write(directory)
    return minted, False
