"""TLS contexts that verify a chosen name, whatever address is dialed.

docs/design.md "Checker rules" 6: an endpoint may be reached through an override address (tunnel,
bastion, local fleet) while the name verified stays the canonical endpoint. PyMySQL passes
the dialed host as `server_hostname`; this context substitutes the canonical name, so the
hostname check and SNI always use it.
"""

from __future__ import annotations

import ssl


class CanonicalNameContext(ssl.SSLContext):
    verify_name: str = ""

    def wrap_socket(self, sock, *args, server_hostname=None, **kwargs):
        return super().wrap_socket(
            sock, *args, server_hostname=self.verify_name or server_hostname, **kwargs
        )


def verify_identity_context(
    verify_name: str, *, cafile: str | None = None, cadata: str | None = None
) -> ssl.SSLContext:
    """VERIFY_IDENTITY: chain against the bundle (CERT_REQUIRED) and the hostname checked."""
    if not verify_name:
        raise ValueError("a name to verify is required")
    if not cafile and not cadata:
        raise ValueError("a trust bundle is required: unverified TLS is never used")
    ctx = CanonicalNameContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.verify_name = verify_name
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.check_hostname = True
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cafile=cafile, cadata=cadata)
    return ctx
