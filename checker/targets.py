"""Which endpoints to check, and how: from inventory rows to `Endpoint`s (reads, no writes).

- Verified name: `ssl_endpoint` when the provider protects one named endpoint (ApsaraDB),
  else the canonical `endpoint_host`.
- Dial: the profile's connect override, else the instance's, else the endpoint itself.
- Trust bundle: profile > account > provider default (TLSPOSTURE_CA_BUNDLE_AWS/_ALIYUN) >
  TLSPOSTURE_CA_BUNDLE. A proxy has its own trust anchors (an RDS Proxy's ACM certificate
  chains to the Amazon Trust Services roots, not to the RDS CAs): profile > the account's
  proxy_ca_bundle > TLSPOSTURE_CA_BUNDLE_<PROVIDER>_PROXY > the provider's proxy roots from
  the local trust store (inventory.sources.clouds.ProxyRoots, Amazon Root CA 1–4) >
  TLSPOSTURE_CA_BUNDLE.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from checker.ca_bundle import default_proxy_bundle
from checker.credentials import CredentialResolver
from checker.endpoint import Endpoint
from checker.models import CheckerProfile
from checker.profiles import matching_profile
from inventory.models import ACTIVE, DBInstance
from inventory.sources.clouds import cloud

MYSQL_PORT = 3306


def checkable_instances():
    """Every endpoint that exists and has an address: instances, clusters and proxies."""
    return (
        DBInstance.objects.filter(ACTIVE, account__enabled=True)
        .exclude(endpoint_host="")
        .select_related("account")
        .order_by("account__name", "identifier")
    )


# A scheduled round checks what was not checked within this share of its interval, so an
# endpoint checked a little early in the previous round is not skipped.
DUE_SHARE = 0.9


def due_instances(every: float):
    """Checkable endpoints never checked, or not within nine tenths of `every` seconds."""
    checked_before = timezone.now() - timedelta(seconds=every * DUE_SHARE)
    return checkable_instances().filter(
        Q(check_state__isnull=True)
        | Q(check_state__last_checked__isnull=True)
        | Q(check_state__last_checked__lt=checked_before)
    )


class UnknownInstance(LookupError):
    pass


def find_instances(references: list[str]) -> list[DBInstance]:
    """Instances by primary key, identifier, or account/identifier; each must name one."""
    found: dict[int, DBInstance] = {}
    for reference in references:
        if reference.isdigit():
            query = Q(pk=int(reference))
        elif "/" in reference:
            account, identifier = reference.split("/", 1)
            query = Q(account__name=account, identifier=identifier)
        else:
            query = Q(identifier=reference)
        matches = list(DBInstance.objects.filter(query).select_related("account")[:10])
        if not matches:
            raise UnknownInstance(f"no instance {reference!r}")
        if len(matches) > 1:
            names = ", ".join(str(m) for m in matches)
            raise UnknownInstance(
                f"{reference!r} names several instances ({names}): use account/identifier"
            )
        found[matches[0].pk] = matches[0]
    return list(found.values())


def trust_bundle_for(instance: DBInstance, profile: CheckerProfile | None) -> tuple[str, str]:
    """(path, where it was configured)."""
    options = settings.TLSPOSTURE
    provider = instance.provider.upper()
    if instance.kind == DBInstance.Kind.PROXY:
        roots = cloud(instance.provider).proxy_roots
        candidates = (
            (profile.ca_bundle if profile else "", "profile"),
            (instance.account.proxy_ca_bundle, "account-proxy"),
            (options.get(f"CA_BUNDLE_{provider}_PROXY", ""), "provider-proxy"),
            (partial(_proxy_roots, roots) if roots else "", roots.source if roots else ""),
            (options.get("CA_BUNDLE", ""), "default"),
        )
    else:
        candidates = (
            (profile.ca_bundle if profile else "", "profile"),
            (instance.account.ca_bundle, "account"),
            (options.get(f"CA_BUNDLE_{provider}", ""), "provider"),
            (options.get("CA_BUNDLE", ""), "default"),
        )
    for path, source in candidates:
        path = path() if callable(path) else path
        if path:
            return path, source
    return "", ""


def _proxy_roots(roots) -> str:
    return default_proxy_bundle(settings.DATA_DIR / "ca", roots)


def dial_address(
    instance: DBInstance, profile: CheckerProfile | None, endpoint_port: int
) -> tuple[str, int]:
    """Where to connect: a profile's override replaces the instance's as a whole."""
    if profile and (profile.connect_host or profile.connect_port):
        return profile.connect_host or instance.endpoint_host, profile.connect_port or endpoint_port
    return instance.dial_host, instance.dial_port or endpoint_port


def plan_endpoints(instances, *, resolver: CredentialResolver | None = None) -> list[Endpoint]:
    resolver = resolver or CredentialResolver()
    profiles = list(CheckerProfile.objects.all())
    planned = []
    for instance in instances:
        profile = matching_profile(instance.account.name, instance.identifier, profiles)
        endpoint_port = instance.endpoint_port or MYSQL_PORT
        cafile, cafile_source = trust_bundle_for(instance, profile)
        dial_host, dial_port = dial_address(instance, profile, endpoint_port)
        credentials = resolver.resolve(
            profile,
            endpoint_host=instance.endpoint_host,
            endpoint_port=endpoint_port,
            region=instance.region,
        )
        planned.append(
            Endpoint(
                instance_id=instance.pk,
                label=str(instance),
                dial_host=dial_host,
                dial_port=dial_port,
                verify_name=instance.ssl_endpoint or instance.endpoint_host,
                cafile=cafile,
                cafile_source=cafile_source,
                profile=profile.name if profile else "",
                login=credentials.login,
                login_source=credentials.source,
                login_error=credentials.error,
                canary=credentials.canary,
                canary_error=credentials.canary_error,
            )
        )
    return planned
