"""TLS cipher suites by IANA id, named as OpenSSL names them, and the classes the probe asks.

The probe lists suite ids in hand-built ClientHellos, so it can ask about suites the local
OpenSSL no longer implements (RC4, DES, 3DES, EXPORT, static DH): a server's answer does
not depend on what this machine could negotiate itself. Properties are read from the
OpenSSL name, which spells key exchange, cipher and MAC.

PSK and SRP suites are left out: a server only picks them for a client that has a PSK or
SRP identity, which a probe never has.

Pure module: no Django imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from common.engines import TLS13_SUITES

# SSLv3 – TLS 1.2 suites.
LEGACY_SUITES = {
    0x0001: "NULL-MD5",
    0x0002: "NULL-SHA",
    0x0003: "EXP-RC4-MD5",
    0x0004: "RC4-MD5",
    0x0005: "RC4-SHA",
    0x0006: "EXP-RC2-CBC-MD5",
    0x0007: "IDEA-CBC-SHA",
    0x0008: "EXP-DES-CBC-SHA",
    0x0009: "DES-CBC-SHA",
    0x000A: "DES-CBC3-SHA",
    0x000B: "EXP-DH-DSS-DES-CBC-SHA",
    0x000C: "DH-DSS-DES-CBC-SHA",
    0x000D: "DH-DSS-DES-CBC3-SHA",
    0x000E: "EXP-DH-RSA-DES-CBC-SHA",
    0x000F: "DH-RSA-DES-CBC-SHA",
    0x0010: "DH-RSA-DES-CBC3-SHA",
    0x0011: "EXP-EDH-DSS-DES-CBC-SHA",
    0x0012: "EDH-DSS-DES-CBC-SHA",
    0x0013: "EDH-DSS-DES-CBC3-SHA",
    0x0014: "EXP-EDH-RSA-DES-CBC-SHA",
    0x0015: "EDH-RSA-DES-CBC-SHA",
    0x0016: "EDH-RSA-DES-CBC3-SHA",
    0x0017: "EXP-ADH-RC4-MD5",
    0x0018: "ADH-RC4-MD5",
    0x0019: "EXP-ADH-DES-CBC-SHA",
    0x001A: "ADH-DES-CBC-SHA",
    0x001B: "ADH-DES-CBC3-SHA",
    0x002F: "AES128-SHA",
    0x0030: "DH-DSS-AES128-SHA",
    0x0031: "DH-RSA-AES128-SHA",
    0x0032: "DHE-DSS-AES128-SHA",
    0x0033: "DHE-RSA-AES128-SHA",
    0x0034: "ADH-AES128-SHA",
    0x0035: "AES256-SHA",
    0x0036: "DH-DSS-AES256-SHA",
    0x0037: "DH-RSA-AES256-SHA",
    0x0038: "DHE-DSS-AES256-SHA",
    0x0039: "DHE-RSA-AES256-SHA",
    0x003A: "ADH-AES256-SHA",
    0x003B: "NULL-SHA256",
    0x003C: "AES128-SHA256",
    0x003D: "AES256-SHA256",
    0x003E: "DH-DSS-AES128-SHA256",
    0x003F: "DH-RSA-AES128-SHA256",
    0x0040: "DHE-DSS-AES128-SHA256",
    0x0041: "CAMELLIA128-SHA",
    0x0044: "DHE-DSS-CAMELLIA128-SHA",
    0x0045: "DHE-RSA-CAMELLIA128-SHA",
    0x0046: "ADH-CAMELLIA128-SHA",
    0x0062: "EXP1024-DES-CBC-SHA",
    0x0063: "EXP1024-DHE-DSS-DES-CBC-SHA",
    0x0064: "EXP1024-RC4-SHA",
    0x0065: "EXP1024-DHE-DSS-RC4-SHA",
    0x0066: "DHE-DSS-RC4-SHA",
    0x0067: "DHE-RSA-AES128-SHA256",
    0x0068: "DH-DSS-AES256-SHA256",
    0x0069: "DH-RSA-AES256-SHA256",
    0x006A: "DHE-DSS-AES256-SHA256",
    0x006B: "DHE-RSA-AES256-SHA256",
    0x006C: "ADH-AES128-SHA256",
    0x006D: "ADH-AES256-SHA256",
    0x0084: "CAMELLIA256-SHA",
    0x0087: "DHE-DSS-CAMELLIA256-SHA",
    0x0088: "DHE-RSA-CAMELLIA256-SHA",
    0x0089: "ADH-CAMELLIA256-SHA",
    0x0096: "SEED-SHA",
    0x0099: "DHE-DSS-SEED-SHA",
    0x009A: "DHE-RSA-SEED-SHA",
    0x009B: "ADH-SEED-SHA",
    0x009C: "AES128-GCM-SHA256",
    0x009D: "AES256-GCM-SHA384",
    0x009E: "DHE-RSA-AES128-GCM-SHA256",
    0x009F: "DHE-RSA-AES256-GCM-SHA384",
    0x00A0: "DH-RSA-AES128-GCM-SHA256",
    0x00A1: "DH-RSA-AES256-GCM-SHA384",
    0x00A2: "DHE-DSS-AES128-GCM-SHA256",
    0x00A3: "DHE-DSS-AES256-GCM-SHA384",
    0x00A4: "DH-DSS-AES128-GCM-SHA256",
    0x00A5: "DH-DSS-AES256-GCM-SHA384",
    0x00A6: "ADH-AES128-GCM-SHA256",
    0x00A7: "ADH-AES256-GCM-SHA384",
    0x00BA: "CAMELLIA128-SHA256",
    0x00BD: "DHE-DSS-CAMELLIA128-SHA256",
    0x00BE: "DHE-RSA-CAMELLIA128-SHA256",
    0x00BF: "ADH-CAMELLIA128-SHA256",
    0x00C0: "CAMELLIA256-SHA256",
    0x00C3: "DHE-DSS-CAMELLIA256-SHA256",
    0x00C4: "DHE-RSA-CAMELLIA256-SHA256",
    0x00C5: "ADH-CAMELLIA256-SHA256",
    0xC001: "ECDH-ECDSA-NULL-SHA",
    0xC002: "ECDH-ECDSA-RC4-SHA",
    0xC003: "ECDH-ECDSA-DES-CBC3-SHA",
    0xC004: "ECDH-ECDSA-AES128-SHA",
    0xC005: "ECDH-ECDSA-AES256-SHA",
    0xC006: "ECDHE-ECDSA-NULL-SHA",
    0xC007: "ECDHE-ECDSA-RC4-SHA",
    0xC008: "ECDHE-ECDSA-DES-CBC3-SHA",
    0xC009: "ECDHE-ECDSA-AES128-SHA",
    0xC00A: "ECDHE-ECDSA-AES256-SHA",
    0xC00B: "ECDH-RSA-NULL-SHA",
    0xC00C: "ECDH-RSA-RC4-SHA",
    0xC00D: "ECDH-RSA-DES-CBC3-SHA",
    0xC00E: "ECDH-RSA-AES128-SHA",
    0xC00F: "ECDH-RSA-AES256-SHA",
    0xC010: "ECDHE-RSA-NULL-SHA",
    0xC011: "ECDHE-RSA-RC4-SHA",
    0xC012: "ECDHE-RSA-DES-CBC3-SHA",
    0xC013: "ECDHE-RSA-AES128-SHA",
    0xC014: "ECDHE-RSA-AES256-SHA",
    0xC015: "AECDH-NULL-SHA",
    0xC016: "AECDH-RC4-SHA",
    0xC017: "AECDH-DES-CBC3-SHA",
    0xC018: "AECDH-AES128-SHA",
    0xC019: "AECDH-AES256-SHA",
    0xC023: "ECDHE-ECDSA-AES128-SHA256",
    0xC024: "ECDHE-ECDSA-AES256-SHA384",
    0xC025: "ECDH-ECDSA-AES128-SHA256",
    0xC026: "ECDH-ECDSA-AES256-SHA384",
    0xC027: "ECDHE-RSA-AES128-SHA256",
    0xC028: "ECDHE-RSA-AES256-SHA384",
    0xC029: "ECDH-RSA-AES128-SHA256",
    0xC02A: "ECDH-RSA-AES256-SHA384",
    0xC02B: "ECDHE-ECDSA-AES128-GCM-SHA256",
    0xC02C: "ECDHE-ECDSA-AES256-GCM-SHA384",
    0xC02D: "ECDH-ECDSA-AES128-GCM-SHA256",
    0xC02E: "ECDH-ECDSA-AES256-GCM-SHA384",
    0xC02F: "ECDHE-RSA-AES128-GCM-SHA256",
    0xC030: "ECDHE-RSA-AES256-GCM-SHA384",
    0xC031: "ECDH-RSA-AES128-GCM-SHA256",
    0xC032: "ECDH-RSA-AES256-GCM-SHA384",
    0xC050: "ARIA128-GCM-SHA256",
    0xC051: "ARIA256-GCM-SHA384",
    0xC052: "DHE-RSA-ARIA128-GCM-SHA256",
    0xC053: "DHE-RSA-ARIA256-GCM-SHA384",
    0xC056: "DHE-DSS-ARIA128-GCM-SHA256",
    0xC057: "DHE-DSS-ARIA256-GCM-SHA384",
    0xC05C: "ECDHE-ECDSA-ARIA128-GCM-SHA256",
    0xC05D: "ECDHE-ECDSA-ARIA256-GCM-SHA384",
    0xC060: "ECDHE-ARIA128-GCM-SHA256",
    0xC061: "ECDHE-ARIA256-GCM-SHA384",
    0xC072: "ECDHE-ECDSA-CAMELLIA128-SHA256",
    0xC073: "ECDHE-ECDSA-CAMELLIA256-SHA384",
    0xC076: "ECDHE-RSA-CAMELLIA128-SHA256",
    0xC077: "ECDHE-RSA-CAMELLIA256-SHA384",
    0xC09C: "AES128-CCM",
    0xC09D: "AES256-CCM",
    0xC09E: "DHE-RSA-AES128-CCM",
    0xC09F: "DHE-RSA-AES256-CCM",
    0xC0A0: "AES128-CCM8",
    0xC0A1: "AES256-CCM8",
    0xC0A2: "DHE-RSA-AES128-CCM8",
    0xC0A3: "DHE-RSA-AES256-CCM8",
    0xC0AC: "ECDHE-ECDSA-AES128-CCM",
    0xC0AD: "ECDHE-ECDSA-AES256-CCM",
    0xC0AE: "ECDHE-ECDSA-AES128-CCM8",
    0xC0AF: "ECDHE-ECDSA-AES256-CCM8",
    0xCCA8: "ECDHE-RSA-CHACHA20-POLY1305",
    0xCCA9: "ECDHE-ECDSA-CHACHA20-POLY1305",
    0xCCAA: "DHE-RSA-CHACHA20-POLY1305",
}


@dataclass(frozen=True)
class Suite:
    id: int
    name: str
    key_exchange: str  # ECDHE | DHE | RSA | ECDH | DH (static) | anon-ECDH | anon-DH | TLS13
    export: bool
    null_cipher: bool
    aead: bool
    broken: bool  # RC4, single DES, 3DES or an MD5 MAC

    @property
    def anonymous(self) -> bool:
        return self.key_exchange.startswith("anon-")

    @property
    def unauthenticated_or_unencrypted(self) -> bool:
        return self.anonymous or self.null_cipher or self.export

    @property
    def forward_secret(self) -> bool:
        return self.key_exchange in ("ECDHE", "DHE", "TLS13")


def _key_exchange(name: str) -> str:
    bare = name.removeprefix("EXP1024-").removeprefix("EXP-")
    for prefix, kind in (
        ("AECDH-", "anon-ECDH"),
        ("ADH-", "anon-DH"),
        ("ECDHE-", "ECDHE"),
        ("ECDH-", "ECDH"),
        ("DHE-", "DHE"),
        ("EDH-", "DHE"),
        ("DH-", "DH"),
    ):
        if bare.startswith(prefix):
            return kind
    return "RSA"


def describe(suite_id: int) -> Suite:
    if suite_id in TLS13_SUITES:
        return Suite(suite_id, TLS13_SUITES[suite_id], "TLS13", False, False, True, False)
    name = LEGACY_SUITES.get(suite_id)
    if name is None:
        return Suite(suite_id, f"0x{suite_id:04X}", "unknown", False, False, False, False)
    parts = name.split("-")
    single_des = "DES" in parts and "CBC" in parts and "DES-CBC3" not in name
    return Suite(
        id=suite_id,
        name=name,
        key_exchange=_key_exchange(name),
        export=name.startswith("EXP"),
        null_cipher="NULL" in parts,
        aead=any(mark in name for mark in ("GCM", "CCM", "POLY1305")),
        broken="RC4" in name or single_des or "DES-CBC3" in name or name.endswith("-MD5"),
    )


def suite_name(suite_id: int) -> str:
    return describe(suite_id).name


# One predicate per evidence.CIPHER_CLASSES entry: the suites one probe handshake offers.
# Anonymous, NULL and EXPORT suites belong to the first class only, so the other answers
# speak of suites that authenticate the server and encrypt.
_CLASS_MEMBERS = {
    "anonymous_null_export": lambda s: s.unauthenticated_or_unencrypted,
    "broken": lambda s: s.broken and not s.unauthenticated_or_unencrypted,
    "static_rsa": lambda s: (
        s.key_exchange in ("RSA", "DH", "ECDH") and not s.unauthenticated_or_unencrypted
    ),
    "non_aead": lambda s: s.forward_secret and not s.aead and not s.unauthenticated_or_unencrypted,
}


def _preference(suite: Suite) -> tuple:
    """How a careful client orders its offer: forward secrecy and AEAD first, weak last."""
    return (
        suite.broken,
        not suite.forward_secret,
        not suite.aead,
        suite.key_exchange != "ECDHE",
    )


@cache
def class_suites(cipher_class: str) -> tuple[int, ...]:
    members = [describe(i) for i in LEGACY_SUITES if _CLASS_MEMBERS[cipher_class](describe(i))]
    return tuple(s.id for s in sorted(members, key=_preference))


@cache
def default_offer() -> tuple[int, ...]:
    """What an ordinary client offers up to TLS 1.2: no anonymous, NULL or EXPORT suite.

    The suite a server picks from this list is "the suite negotiated by default" on a
    version; weak suites are included (last) so a server that has nothing better shows it.
    """
    usable = [describe(i) for i in LEGACY_SUITES]
    usable = [s for s in usable if not s.unauthenticated_or_unencrypted]
    return tuple(s.id for s in sorted(usable, key=_preference))
