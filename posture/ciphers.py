"""Read an OpenSSL cipher string (ssl_cipher) for settings that lower its security.

Pure. The live probe says which weak suites a server accepts; this says what the
configuration asks for, so a weakened policy shows even where the probe could not test it.
"""

from __future__ import annotations

# Classes that name only weak suites; listing one (without excluding it) weakens the policy.
_WEAK_CLASSES = {
    "ANULL": "anonymous key exchange (aNULL)",
    "ADH": "anonymous DH (ADH)",
    "AECDH": "anonymous ECDH (AECDH)",
    "ENULL": "no encryption (eNULL)",
    "NULL": "no encryption (NULL)",
    "COMPLEMENTOFALL": "no encryption (COMPLEMENTOFALL)",
    "EXPORT": "export-grade suites (EXPORT)",
    "EXP": "export-grade suites (EXP)",
    "EXPORT40": "export-grade suites (EXPORT40)",
    "EXPORT56": "export-grade suites (EXPORT56)",
    "LOW": "low-strength suites (LOW)",
    "RC4": "RC4",
    "DES": "DES",
    "3DES": "3DES",
    "MD5": "MD5 MACs",
}
# What `ALL` brings in unless the string excludes it.
_ALL_WEAK = {
    "ANULL": "aNULL",
    "EXPORT": "EXPORT",
    "LOW": "LOW",
    "RC4": "RC4",
    "DES": "DES",
    "3DES": "3DES",
    "MD5": "MD5",
}
_SAME = {"EXP": "EXPORT", "NULL": "ENULL", "ADH": "ANULL", "AECDH": "ANULL"}
# Excluding these removes the strong suites: forward secrecy or AEAD is lost.
_STRONG_CLASSES = {"HIGH", "ECDHE", "EECDH", "KECDHE", "KEECDH", "AESGCM", "AEAD", "CHACHA20"}
# Fragments of single suite names that are weak (OpenSSL naming).
_WEAK_SUITE_PARTS = ("NULL", "RC4", "DES-CBC", "EXP-", "EXP1024", "ADH-", "AECDH-", "-MD5")


def weakening_tokens(cipher_string: str | None) -> list[str]:
    """Why a cipher string lowers security, one line per reason; [] when it does not."""
    if not cipher_string:
        return []
    tokens = [t.strip() for t in cipher_string.split(":") if t.strip()]
    excluded = {_SAME.get(t[1:].upper(), t[1:].upper()) for t in tokens if t[:1] in ("!", "-")}
    reasons: list[str] = []
    for token in tokens:
        upper = token.upper()
        if upper.startswith("@SECLEVEL="):
            if upper == "@SECLEVEL=0":
                reasons.append("@SECLEVEL=0 allows every weak suite and key size")
            continue
        if token[:1] in ("!", "-"):
            if upper[1:] in _STRONG_CLASSES:
                reasons.append(f"{token} removes strong suites")
            continue
        if token[:1] in ("+", "@"):
            continue  # reordering and sorting, not inclusion
        for part in upper.split("+"):
            if part == "ALL":
                missing = [name for key, name in _ALL_WEAK.items() if key not in excluded]
                if missing:
                    reasons.append("ALL without " + ", ".join(f"!{name}" for name in missing))
            elif part in _WEAK_CLASSES:
                if _SAME.get(part, part) not in excluded:
                    reasons.append(f"{token} adds {_WEAK_CLASSES[part]}")
            elif "-" in part and any(p in part for p in _WEAK_SUITE_PARTS):
                reasons.append(f"{token} is a weak suite")
    return list(dict.fromkeys(reasons))
