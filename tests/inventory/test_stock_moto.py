"""Sync against a stock moto server — `python -m moto.server`, none of the project's moto
extensions loaded — seeded with boto3, as another implementation of the RDS API.

Stock moto answers DescribePendingMaintenanceActions, DescribeCertificates and the engine
default calls with an HTML 500 page botocore cannot parse. Those are optional lookups: the
region syncs every endpoint, each fact they would have given is unknown with its reason,
and nothing is logged as an unexpected failure.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import subprocess
import sys
import time

import pytest
from django.core.management import call_command

from inventory.models import CloudAccount, DBInstance, SyncRegion
from tests.inventory.aws_world import AwsWorld

pytestmark = pytest.mark.django_db

REGION = "us-east-1"
UNPARSEABLE = (
    "unparseable answer: an HTML page (500 Internal Server Error) instead of the API's XML"
)


@pytest.fixture(scope="module")
def stock_moto():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("python -m moto.server did not start")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def world(stock_moto, aws_credentials, monkeypatch):
    """The stock server, emptied, with boto3 pointed at it for seeding."""
    call = socket.create_connection(("127.0.0.1", int(stock_moto.rsplit(":", 1)[1])))
    call.sendall(b"POST /moto-api/reset HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
    assert b" 200 " in call.recv(100)
    call.close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", stock_moto)
    return AwsWorld()


def test_every_endpoint_syncs_and_what_stock_moto_lacks_is_unknown(
    stock_moto, world, settings, caplog
):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "CLOUD_API_ATTEMPTS": 2}
    world.group("orders-tls", "mysql8.0", require_secure_transport="1")
    world.instance("orders-db", group="orders-tls")
    world.instance("wordpress-db")
    world.instance("shop-db", engine="mariadb", version="10.11.11")
    world.cluster("ledger", members=2)
    world.proxy("orders-proxy", require_tls=True, instances=("orders-db",))
    CloudAccount.objects.create(
        name="stock", provider="aws", regions=[REGION], endpoint_url=stock_moto
    )

    out = io.StringIO()
    with caplog.at_level(logging.WARNING):
        call_command("sync_inventory", stdout=out)

    assert "stock: ok, 1/1 regions, 7 endpoints (7 new" in out.getvalue()
    assert "failed unexpectedly" not in caplog.text
    assert set(DBInstance.objects.values_list("identifier", "kind")) == {
        ("orders-db", "instance"),
        ("wordpress-db", "instance"),
        ("shop-db", "instance"),
        ("ledger", "cluster"),
        ("ledger-1", "instance"),
        ("ledger-2", "instance"),
        ("orders-proxy", "proxy"),
    }
    region = SyncRegion.objects.get()
    assert region.status == "ok"
    warnings = "\n".join(region.warnings)
    assert f"DescribePendingMaintenanceActions failed: {UNPARSEABLE}" in warnings
    assert f"CA list could not be read: {UNPARSEABLE}" in warnings
    assert "DescribeEngineDefaultParameters failed for mysql8.0" in warnings

    pending = f"DescribePendingMaintenanceActions failed: {UNPARSEABLE}"
    for row in DBInstance.objects.exclude(kind="proxy"):
        assert row.lookup_errors["pending_actions"] == pending, row.identifier
    # A value the group states is known; one only the failed engine defaults would state is not.
    orders = DBInstance.objects.get(identifier="orders-db")
    assert orders.tls_parameters.get(name="require_secure_transport").raw_value == "1"
    assert orders.lookup_errors["tls_version"].startswith(
        f"engine defaults of mysql8.0 could not be read: {UNPARSEABLE}"
    )
    proxy = DBInstance.objects.get(identifier="orders-proxy")
    assert proxy.proxy_require_tls is True
    assert list(proxy.proxy_targets.values_list("identifier", flat=True)) == ["orders-db"]

    report = io.StringIO()
    call_command("posture_report", "--format", "json", stdout=report)
    rows = {row["identifier"]: row for row in json.loads(report.getvalue())["instances"]}
    for name in ("orders-db", "wordpress-db", "shop-db", "ledger-1", "ledger-2"):
        assert rows[name]["unknown"]["pending_rotations"] == f"pending_actions: {pending}"
