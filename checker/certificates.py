"""What a server certificate says, and whether it names the endpoint.

The hostname verdict follows the rules OpenSSL applies under VERIFY_IDENTITY with Python's
defaults, so the probe predicts what the authenticated session will experience: DNS names
from subjectAltName (a wildcard only as the whole left-most label, never partial); the
subject CN only when the certificate has no DNS name at all; IP addresses against IP SANs.

Pure module: no Django imports.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Callable

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from checker.evidence import CertificateInfo, Verification
from common.timeutil import iso_z

_MYSQL_AUTO_CN = re.compile(r"^MySQL_Server_.*_Auto_Generated_Server_Certificate$")
_MARIADB_ZERO_CONFIG_CN = "MariaDB Server"


def load(der: bytes) -> x509.Certificate:
    """The certificate, or ValueError for bytes that are not one (cryptography raises
    InvalidVersion, no ValueError, for a version field out of range: found by fuzzing)."""
    try:
        return x509.load_der_x509_certificate(der)
    except x509.InvalidVersion as exc:
        raise ValueError(f"invalid certificate version: {exc}") from None


def common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def subject_alt_names(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) from subjectAltName; empty when there is none."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    except ValueError:  # a malformed extension names nothing we could trust
        return [], []
    dns = [str(n) for n in san.get_values_for_type(x509.DNSName)]
    ips = [str(a) for a in san.get_values_for_type(x509.IPAddress)]
    return dns, ips


def certificate_info(cert: x509.Certificate) -> CertificateInfo:
    """What the certificate says. Each part is read under its own guard: a name or an
    extension `cryptography` cannot decode (a CN re-tagged as a BIT STRING, say) becomes a
    note on this certificate, and everything else is still described."""
    notes: list[str] = []

    def read(what: str, get: Callable, default=None):
        try:
            return get()
        except Exception as exc:  # any decoding failure of one part; the rest still counts
            notes.append(f"{what} could not be decoded ({type(exc).__name__}: {exc})"[:200])
            return default

    dns, ips = read("subjectAltName", lambda: subject_alt_names(cert), ([], []))
    key_type, key_bits, curve = read("public key", lambda: _key(cert), ("unknown", None, None))
    cn = read("subject CN", lambda: common_name(cert))
    self_signed = read("self-signature", lambda: _self_signed(cert), False)
    return CertificateInfo(
        subject=read("subject", lambda: cert.subject.rfc4514_string(), ""),
        common_name=cn,
        sans=dns + ips,
        issuer=read("issuer", lambda: cert.issuer.rfc4514_string(), ""),
        not_before=read("notBefore", lambda: iso_z(cert.not_valid_before_utc)),
        not_after=read("notAfter", lambda: iso_z(cert.not_valid_after_utc)),
        key_type=key_type,
        key_bits=key_bits,
        curve=curve,
        signature_hash=read("signature algorithm", lambda: _signature_hash(cert)),
        serial=read("serial number", lambda: format(cert.serial_number, "x"), ""),
        sha256_fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
        self_signed=self_signed,
        auto_generated=_auto_generated(cn, self_signed),
        note="; ".join(notes),
    )


def describe_der(der: bytes) -> CertificateInfo:
    """certificate_info() of DER bytes; bytes that do not even parse keep their fingerprint
    and say why. Never raises."""
    try:
        return certificate_info(load(der))
    except Exception as exc:  # unparseable DER (ValueError) or a decoder bug: still a record
        return CertificateInfo(
            sha256_fingerprint=hashlib.sha256(der).hexdigest(),
            note=f"could not be parsed ({type(exc).__name__}: {exc})"[:200],
        )


def _key(cert: x509.Certificate) -> tuple[str, int | None, str | None]:
    try:
        key = cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return "unknown", None, None
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456, None
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size, None
    return "unknown", None, None


def _signature_hash(cert: x509.Certificate) -> str | None:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        # e.g. md2/md4: say so rather than pretend there is no hash
        return f"unsupported:{cert.signature_algorithm_oid.dotted_string}"
    return algorithm.name if algorithm is not None else None


def _self_signed(cert: x509.Certificate) -> bool:
    # verify_directly_issued_by compares the issuer and subject names as encoded, so it also
    # judges a certificate whose names do not decode.
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _auto_generated(cn: str | None, self_signed: bool) -> str | None:
    if cn and _MYSQL_AUTO_CN.match(cn):
        return "mysql-auto"
    if cn == _MARIADB_ZERO_CONFIG_CN and self_signed:
        return "mariadb-zero-config"
    return None


def hostname_verdict(cert: x509.Certificate, name: str) -> Verification:
    dns, ips = subject_alt_names(cert)
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None:
        if any(ipaddress.ip_address(ip) == address for ip in ips):
            return Verification(ok=True, reason=f"an IP subjectAltName is {name}")
        return Verification(ok=False, reason=f"no IP subjectAltName is {name}{_names(dns, ips)}")
    if dns:
        match = next((pattern for pattern in dns if _dns_matches(pattern, name)), None)
        if match:
            return Verification(ok=True, reason=f"subjectAltName {match} matches {name}")
        return Verification(ok=False, reason=f"certificate does not name {name}{_names(dns, ips)}")
    cn = common_name(cert)
    if cn and _dns_matches(cn, name):
        return Verification(ok=True, reason=f"subject CN {cn} matches {name} (no DNS SAN)")
    shown = f"; its subject CN is {cn}" if cn else "; it has no subject CN"
    return Verification(ok=False, reason=f"certificate has no DNS subjectAltName for {name}{shown}")


def _names(dns: list[str], ips: list[str]) -> str:
    names = dns + ips
    return f" (it names {', '.join(names)})" if names else ""


def _dns_matches(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if "*" not in pattern:
        return pattern == name
    first, _, rest = pattern.partition(".")
    # "*" must be the whole left-most label and cover exactly one label of a name that
    # keeps at least two labels under it (no "*.com", no "f*.example.com").
    if first != "*" or "*" in rest or rest.count(".") < 1:
        return False
    label, _, name_rest = name.partition(".")
    return bool(label) and name_rest == rest
