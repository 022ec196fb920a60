"""A certificate whose name `cryptography` cannot decode (a CN re-tagged as an ASN.1 BIT
STRING, which OpenSSL loads and serves) costs only that name: a real MariaDB server serves
it, and the check still reports the accepted versions and the self-signed finding."""

from __future__ import annotations

import io
import json

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from django.utils import timezone

from checker.certificates import describe_der
from checker.evidence import Evidence
from checker.models import Observation
from fleet.certs import make_bit_string_cn_cert
from fleet.mariadb import Fleet, ServerSpec
from inventory.models import CloudAccount, DBInstance

pytestmark = [pytest.mark.fleet, pytest.mark.django_db]

NAME = "odd-name.fleet.tlsposture.test"


@pytest.fixture(scope="module")
def odd_server(tmp_path_factory):
    certificate = make_bit_string_cn_cert([NAME])
    spec = ServerSpec("odd-name", certificate=certificate, require_secure_transport=True)
    with Fleet([spec], base_dir=tmp_path_factory.mktemp("odd", numbered=True)) as fleet:
        yield fleet["odd-name"], certificate


def test_the_description_keeps_everything_but_the_name(odd_server):
    _, certificate = odd_server
    info = describe_der(certificate.cert.public_bytes(serialization.Encoding.DER))
    assert info.self_signed is True
    assert info.sans == [NAME] and info.key_type == "RSA" and info.key_bits == 2048
    assert info.not_after and info.sha256_fingerprint
    assert info.subject == "" and info.common_name is None
    assert info.note.startswith("subject CN could not be decoded (TypeError")


def test_a_served_certificate_with_a_bit_string_cn_is_reported(odd_server):
    server, _ = odd_server
    account = CloudAccount.objects.create(name="odd", provider="aws", regions=["eu-west-1"])
    now = timezone.now()
    DBInstance.objects.create(
        account=account,
        provider="aws",
        region="eu-west-1",
        resource_id="arn:aws:rds:eu-west-1:123456789012:db:odd-db",
        identifier="odd-db",
        engine="mariadb",
        engine_version="10.11.11",
        endpoint_host=NAME,
        endpoint_port=3306,
        connect_host=server.host,
        connect_port=server.port,
        first_seen=now,
        last_seen=now,
    )

    call_command("check_tls", "--all", stdout=io.StringIO())

    observation = Observation.objects.get()
    assert "checker error" not in observation.reason
    evidence = Evidence.from_dict(observation.evidence)
    (leaf,) = evidence.probe.chain
    assert leaf.self_signed and "subject CN could not be decoded" in leaf.note
    assert "not fully decoded" in evidence.probe.chain_note
    out = io.StringIO()
    call_command("posture_report", "--format", "json", stdout=out)
    (row,) = json.loads(out.getvalue())["instances"]
    assert row["check_status"] != "unreachable"
    assert "TLSv1.2" in row["tls_versions_accepted"]
    assert "cert.self_signed" in {f["id"] for f in row["findings"]}
    assert row["grade"] == "C"
