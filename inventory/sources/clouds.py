"""What each cloud provider is, below posture: its name, label, inventory source and where
its trust anchors come from. Pure data and a registry; no SDK is imported here.

The layers above read these facts (the checker picks trust bundles and `fetch_ca_bundle`
installs them; posture/providers/ holds the commands). Adding a provider adds one `Cloud`
here (docs/adding-a-provider.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.module_loading import import_string


class UnknownProvider(LookupError):
    """A provider name no module is registered for."""


@dataclass(frozen=True)
class ProxyRoots:
    """The public roots a provider's proxies chain to, when they differ from its database
    CAs (RDS Proxy: AWS Certificate Manager certificates under Amazon Trust Services,
    docs/reference/aws-rds.md "Defaults and limits"). Every OS trust store and certifi carry
    them; they are picked out by common name and organisation."""

    proxies: str  # what the provider calls its proxies
    common_names: tuple[str, ...]
    organisation: str
    issuer: str  # where to download them by hand
    setting: str  # the environment variable that names a bundle of them
    file_name: str  # written under $TLSPOSTURE_DATA_DIR/ca/
    source: str  # how a check's evidence names this fallback
    covers: str  # what the bundle is for, as `fetch_ca_bundle` says it


@dataclass(frozen=True)
class Cloud:
    name: str  # CloudAccount.provider / DBInstance.provider
    label: str
    short_label: str  # where space is short (table cells); the label is its title
    source: str  # dotted path of the InventorySource class, imported when first used
    trust_bundle_url: str = ""  # one bundle for every database endpoint, over HTTPS
    trust_bundle_covers: str = ""
    # Where no URL serves a bundle: how to get one, said by `fetch_ca_bundle`.
    trust_bundle_manual: str = ""
    proxy_roots: ProxyRoots | None = None

    def open_source(self, account):
        return import_string(self.source)(account)


AWS = Cloud(
    name="aws",
    label="AWS",
    short_label="AWS",
    source="inventory.sources.aws.AwsSource",
    trust_bundle_url="https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem",
    trust_bundle_covers="the RDS CAs, for DB instances and Aurora clusters",
    proxy_roots=ProxyRoots(
        proxies="RDS Proxy",
        common_names=tuple(f"Amazon Root CA {n}" for n in range(1, 5)),
        organisation="Amazon",
        issuer="Amazon Trust Services",
        setting="TLSPOSTURE_CA_BUNDLE_AWS_PROXY",
        file_name="aws-proxy-bundle.pem",
        source="amazon-trust-services",
        covers="the Amazon Trust Services roots, for RDS Proxy endpoints (their ACM "
        "certificates chain to these, not to the RDS CAs)",
    ),
)
ALIYUN = Cloud(
    name="aliyun",
    label="Alibaba Cloud",
    short_label="Alibaba",
    source="inventory.sources.aliyun.AliyunSource",
    trust_bundle_manual=(
        "ApsaraDB issues its CA per instance: download it from the console (Data "
        "Security > SSL > Download CA Certificate) or with `aliyun rds "
        "DescribeDBInstanceSSL`, then run this command with --url, or set "
        "TLSPOSTURE_CA_BUNDLE_ALIYUN to the file"
    ),
)

CLOUDS: dict[str, Cloud] = {cloud.name: cloud for cloud in (AWS, ALIYUN)}


def cloud(name: str) -> Cloud:
    try:
        return CLOUDS[name]
    except KeyError:
        known = ", ".join(sorted(CLOUDS))
        raise UnknownProvider(
            f"unknown provider {name!r}: inventory/sources/clouds.py knows {known}"
        ) from None
