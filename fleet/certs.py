"""Mint CAs and server certificates with chosen names, validity, keys and signatures."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_TYPES = ("rsa1024", "rsa2048", "rsa4096", "ec256", "ec384")
SIGNATURE_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha1": hashes.SHA1}
# DER of the AlgorithmIdentifier OIDs swapped when re-signing with SHA-1 (same length).
_OID_SHA256_WITH_RSA = bytes.fromhex("06092a864886f70d01010b")
_OID_SHA1_WITH_RSA = bytes.fromhex("06092a864886f70d010105")


def make_key(key_type: str = "rsa2048"):
    if key_type.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[3:]))
    if key_type == "ec256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    raise ValueError(f"unknown key type {key_type!r}; one of {', '.join(KEY_TYPES)}")


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _validity(expires_in: timedelta, not_before: datetime | None) -> tuple[datetime, datetime]:
    now = datetime.now(UTC).replace(microsecond=0)
    not_after = now + expires_in
    if not_before is None:
        # An already expired certificate still needs a sane window before its end.
        not_before = min(now - timedelta(days=1), not_after - timedelta(days=30))
    return not_before, not_after


@dataclass(frozen=True)
class Authority:
    """A CA that can issue server certificates."""

    name: str
    cert: x509.Certificate
    key: object

    @property
    def cert_pem(self) -> bytes:
        return _pem_cert(self.cert)

    def write(self, path: Path) -> Path:
        path.write_bytes(self.cert_pem)
        return path


@dataclass(frozen=True)
class ServerCertificate:
    """A leaf (and the chain above it, without the root) plus its private key."""

    cert: x509.Certificate
    key: object
    chain: tuple[x509.Certificate, ...] = ()
    issuer: Authority | None = None

    @property
    def cert_pem(self) -> bytes:
        return _pem_cert(self.cert) + b"".join(_pem_cert(c) for c in self.chain)

    @property
    def key_pem(self) -> bytes:
        return _pem_key(self.key)

    def write(self, directory: Path, stem: str = "server") -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = directory / f"{stem}-cert.pem", directory / f"{stem}-key.pem"
        cert_path.write_bytes(self.cert_pem)
        key_path.write_bytes(self.key_pem)
        key_path.chmod(0o600)
        return cert_path, key_path


def make_ca(
    name: str = "tlsposture test root CA",
    *,
    key_type: str = "rsa2048",
    expires_in: timedelta = timedelta(days=3650),
    parent: Authority | None = None,
    signature_hash: str = "sha256",
) -> Authority:
    """A root CA, or an intermediate when `parent` is given."""
    key = make_key(key_type)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    not_before, not_after = _validity(expires_in, None)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(parent.cert.subject if parent else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    signer = parent.key if parent else key
    cert = _sign(builder, signer, signature_hash)
    return Authority(name=name, cert=cert, key=key)


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def make_server_cert(
    sans: list[str],
    *,
    issuer: Authority | None,
    common_name: str | None = None,
    key_type: str = "rsa2048",
    signature_hash: str = "sha256",
    expires_in: timedelta = timedelta(days=365),
    not_before: datetime | None = None,
    chain: tuple[x509.Certificate, ...] = (),
) -> ServerCertificate:
    """A server certificate. `issuer=None` makes it self-signed; negative `expires_in` expired.

    `sans` may be empty (like MySQL's auto-generated certificates, which name nothing).
    """
    key = make_key(key_type)
    cn = common_name if common_name is not None else (sans[0] if sans else "localhost")
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    start, end = _validity(expires_in, not_before)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    )
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_san(n) for n in sans]), critical=False
        )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    cert = _sign(builder, issuer.key if issuer else key, signature_hash)
    return ServerCertificate(cert=cert, key=key, chain=chain, issuer=issuer)


def _sign(builder: x509.CertificateBuilder, key, signature_hash: str) -> x509.Certificate:
    if signature_hash != "sha1":
        return builder.sign(key, SIGNATURE_HASHES[signature_hash]())
    return _sign_sha1(builder, key)


def _sign_sha1(builder: x509.CertificateBuilder, key) -> x509.Certificate:
    """A SHA-1 signed certificate, which `cryptography` no longer signs itself.

    Legacy servers still present them, so tests need them: sign with SHA-256, swap the
    algorithm OID inside the TBS part for sha1WithRSAEncryption (same length), and sign
    the patched TBS with SHA-1.
    """
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("SHA-1 signatures are minted for RSA signing keys only")
    template = builder.sign(key, hashes.SHA256())
    tbs = template.tbs_certificate_bytes
    if tbs.count(_OID_SHA256_WITH_RSA) != 1:
        raise ValueError("unexpected TBS layout while re-signing with SHA-1")
    tbs = tbs.replace(_OID_SHA256_WITH_RSA, _OID_SHA1_WITH_RSA)
    signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - on purpose
    algorithm = _der(0x30, _OID_SHA1_WITH_RSA + b"\x05\x00")
    bit_string = _der(0x03, b"\x00" + signature)
    return x509.load_der_x509_certificate(_der(0x30, tbs + algorithm + bit_string))


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        encoded = bytes([length])
    else:
        raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
        encoded = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + encoded + content


# 2.5.4.45 (x500UniqueIdentifier, a BIT STRING) and 2.5.4.3 (commonName): same DER length.
_OID_UNIQUE_IDENTIFIER = bytes.fromhex("060355042d")
_OID_COMMON_NAME = bytes.fromhex("0603550403")


def make_bit_string_cn_cert(
    sans: list[str], *, key_type: str = "rsa2048", expires_in: timedelta = timedelta(days=365)
) -> ServerCertificate:
    """A self-signed certificate whose subject (and so issuer) CN is an ASN.1 BIT STRING.

    OpenSSL loads and serves it; `cryptography` parses the certificate but fails when asked
    for the name. Built as a certificate with an x500UniqueIdentifier (which is a BIT STRING),
    whose OID is then re-tagged as commonName in the TBS bytes, and signed again.
    """
    key = make_key(key_type)
    name = x509.Name(
        [
            x509.NameAttribute(
                NameOID.X500_UNIQUE_IDENTIFIER,
                # DER content of a BIT STRING: the count of unused bits (0), then the bits.
                b"\x00" + (sans[0] if sans else "localhost").encode(),
                _ASN1Type.BitString,
            )
        ]
    )
    start, end = _validity(expires_in, None)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_san(n) for n in sans]), critical=False
        )
    template = builder.sign(key, hashes.SHA256())
    tbs = template.tbs_certificate_bytes
    if tbs.count(_OID_UNIQUE_IDENTIFIER) != 2:
        raise ValueError("unexpected TBS layout while re-tagging the CN")
    tbs = tbs.replace(_OID_UNIQUE_IDENTIFIER, _OID_COMMON_NAME)
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    outer = template.public_bytes(serialization.Encoding.DER)
    algorithm = _der_element_after(outer, tbs_length=len(template.tbs_certificate_bytes))
    cert = x509.load_der_x509_certificate(
        _der(0x30, tbs + algorithm + _der(0x03, b"\x00" + signature))
    )
    return ServerCertificate(cert=cert, key=key)


def _der_element_after(certificate: bytes, *, tbs_length: int) -> bytes:
    """The signatureAlgorithm element that follows the TBS in a DER certificate."""
    header = 2 + (certificate[1] & 0x7F if certificate[1] & 0x80 else 0)
    rest = certificate[header + tbs_length :]
    size = rest[1]
    if size & 0x80:
        count = size & 0x7F
        return rest[: 2 + count + int.from_bytes(rest[2 : 2 + count], "big")]
    return rest[: 2 + size]
