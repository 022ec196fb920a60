"""RDS Proxy endpoints are verified against their own trust anchors (ACM certificates chain
to the Amazon Trust Services roots, not to the RDS CAs): a proxy signed by a "public" CA
verifies against the account's proxy_ca_bundle, while a DB instance whose certificate that
same CA signed does not verify against the account's RDS bundle. Real MariaDB servers."""

from __future__ import annotations

import io

import pytest
from cryptography import x509
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from checker.evidence import Evidence
from checker.models import TargetState
from checker.targets import trust_bundle_for
from fleet.certs import make_ca, make_server_cert
from fleet.mariadb import Fleet, ServerSpec
from inventory.models import CloudAccount, DBInstance
from posture.models import Finding

pytestmark = pytest.mark.django_db

PROXY = "orders-proxy.proxy-abc.us-east-1.rds.amazonaws.com"
INSTANCE = "orders-db.abc.us-east-1.rds.amazonaws.com"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One server per endpoint, both signed by the "public" CA; an RDS-like CA elsewhere."""
    base = tmp_path_factory.mktemp("proxy-trust", numbered=True)
    public, rds = make_ca("demo public root CA"), make_ca("demo RDS root CA")
    (base / "public.pem").write_bytes(public.cert_pem)
    (base / "rds.pem").write_bytes(rds.cert_pem)
    specs = [
        ServerSpec("proxy", certificate=make_server_cert([PROXY], issuer=public)),
        ServerSpec("instance", certificate=make_server_cert([INSTANCE], issuer=public)),
    ]
    with Fleet(specs, base_dir=base / "servers") as fleet:
        yield fleet, base


def _endpoint(account, server, kind: str, identifier: str, host: str) -> DBInstance:
    now = timezone.now()
    return DBInstance.objects.create(
        account=account,
        provider="aws",
        region="us-east-1",
        kind=kind,
        resource_id=f"arn:aws:rds:us-east-1:123456789012:{kind}:{identifier}",
        identifier=identifier,
        engine="MYSQL" if kind == "proxy" else "mysql",
        engine_version="" if kind == "proxy" else "8.0.39",
        endpoint_host=host,
        endpoint_port=3306,
        connect_host=server.host,
        connect_port=server.port,
        proxy_require_tls=True if kind == "proxy" else None,
        first_seen=now,
        last_seen=now,
    )


@pytest.mark.fleet
def test_a_proxy_verifies_against_its_bundle_and_an_instance_by_that_ca_does_not(world):
    fleet, base = world
    account = CloudAccount.objects.create(
        name="prod",
        provider="aws",
        regions=["us-east-1"],
        ca_bundle=str(base / "rds.pem"),
        proxy_ca_bundle=str(base / "public.pem"),
    )
    proxy = _endpoint(account, fleet["proxy"], "proxy", "orders-proxy", PROXY)
    instance = _endpoint(account, fleet["instance"], "instance", "orders-db", INSTANCE)

    call_command("check_tls", "--all", stdout=io.StringIO())

    def evidence(row) -> Evidence:
        return Evidence.from_dict(TargetState.objects.get(instance=row).latest.evidence)

    seen = evidence(proxy)
    assert (seen.trust_bundle, seen.trust_bundle_source) == (
        str(base / "public.pem"),
        "account-proxy",
    )
    assert seen.probe.trust.ok is True and seen.probe.hostname.ok is True
    assert not Finding.objects.filter(instance=proxy, finding_id="cert.untrusted").exists()
    seen = evidence(instance)
    assert (seen.trust_bundle_source, seen.probe.trust.ok) == ("account", False)
    untrusted = Finding.objects.get(instance=instance, finding_id="cert.untrusted")
    assert untrusted.resolved_at is None


def test_without_configuration_a_proxy_gets_the_amazon_roots(tmp_path, settings):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "CA_BUNDLE_AWS_PROXY": "", "CA_BUNDLE": ""}
    account = CloudAccount.objects.create(
        name="prod", provider="aws", regions=["us-east-1"], ca_bundle="/etc/rds.pem"
    )
    now = timezone.now()
    proxy = DBInstance.objects.create(
        account=account,
        provider="aws",
        region="us-east-1",
        kind="proxy",
        resource_id="arn:aws:rds:us-east-1:123456789012:db-proxy:p",
        identifier="p",
        engine="MYSQL",
        first_seen=now,
        last_seen=now,
    )
    with override_settings(DATA_DIR=tmp_path):
        path, source = trust_bundle_for(proxy, None)
    assert (path, source) == (
        str(tmp_path / "ca" / "aws-proxy-bundle.pem"),
        "amazon-trust-services",
    )
    roots = x509.load_pem_x509_certificates((tmp_path / "ca" / "aws-proxy-bundle.pem").read_bytes())
    names = sorted(c.subject.rfc4514_string() for c in roots)
    assert names == [f"CN=Amazon Root CA {n},O=Amazon,C=US" for n in range(1, 5)]
    # A configured provider bundle wins over the default; an instance keeps the RDS bundle.
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "CA_BUNDLE_AWS_PROXY": "/etc/acm.pem"}
    assert trust_bundle_for(proxy, None) == ("/etc/acm.pem", "provider-proxy")
    proxy.kind = "instance"
    assert trust_bundle_for(proxy, None) == ("/etc/rds.pem", "account")
