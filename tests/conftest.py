"""Shared fixtures: the real MariaDB fleet, a moto server, and the database test marker."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from fleet.clients import unwatched_spec, watched_spec
from fleet.mariadb import Fleet, find_mariadbd
from fleet.mysql8.scenarios import build_mysql8_specs
from fleet.scenarios import build_specs, make_trust_anchors

_DB_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


def pytest_report_header(config):
    # `make test-future` moves the clock with libfaketime; say which date this run sees.
    moved = f" (libfaketime, FAKETIME={os.environ['FAKETIME']})" if "FAKETIME" in os.environ else ""
    return f"clock: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC{moved}"


def pytest_collection_modifyitems(config, items):
    # CI re-runs every test that touches the Django database on PostgreSQL (`-m database`).
    for item in items:
        if item.get_closest_marker("django_db") or _DB_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.database)
    # The longest files first (`long` marker), the rest in their order: pytest-xdist hands
    # out files in this order (`--no-loadscope-reorder`, Makefile), so a long file started
    # last cannot keep one process busy while the others have finished.
    items.sort(key=lambda item: -_expected_seconds(item))


def _expected_seconds(item) -> float:
    mark = item.get_closest_marker("long")
    return mark.kwargs["seconds"] if mark else 0


@pytest.fixture(scope="session")
def tls_fleet(tmp_path_factory):
    """Every standard scenario of fleet/scenarios.py, one real server each, started once."""
    if find_mariadbd() is None:
        pytest.fail("mariadbd is missing: `make test` installs Debian's mariadb-server")
    # Certificates minted under time-machine would be dated by a clock that mariadbd and
    # OpenSSL never see, and the whole session would share them: start the fleet first.
    assert not time_machine.escape_hatch.is_travelling(), (
        "tls_fleet was first requested inside a time travel"
    )
    anchors, specs = build_specs()
    fleet = Fleet(specs, base_dir=tmp_path_factory.mktemp("fleet", numbered=True))
    fleet.anchors = anchors
    bundle = tmp_path_factory.mktemp("trust") / "fleet-bundle.pem"
    bundle.write_bytes(anchors.bundle_pem)
    fleet.bundle_path = bundle
    with fleet:
        yield fleet


@pytest.fixture(scope="session")
def client_fleet(tmp_path_factory):
    """Two servers that clients connect to (fleet/clients.py): `watched` with
    performance_schema ON, `unwatched` with MariaDB's default OFF. Each test's clients are
    its own accounts, so tests do not see each other's."""
    if find_mariadbd() is None:
        pytest.fail("mariadbd is missing: `make test` installs Debian's mariadb-server")
    assert not time_machine.escape_hatch.is_travelling()
    anchors = make_trust_anchors()
    fleet = Fleet(
        [watched_spec(anchors), unwatched_spec(anchors)],
        base_dir=tmp_path_factory.mktemp("client-fleet", numbered=True),
    )
    bundle = tmp_path_factory.mktemp("client-trust") / "bundle.pem"
    bundle.write_bytes(anchors.bundle_pem)
    fleet.bundle_path = bundle
    with fleet:
        yield fleet


@pytest.fixture(scope="session")
def mysql8_fleet(tmp_path_factory):
    """Every MySQL 8 persona scenario of fleet/mysql8/scenarios.py, one process each."""
    assert not time_machine.escape_hatch.is_travelling(), (
        "mysql8_fleet was first requested inside a time travel"
    )
    anchors = make_trust_anchors()
    fleet = Fleet(
        build_mysql8_specs(anchors), base_dir=tmp_path_factory.mktemp("mysql8", numbered=True)
    )
    fleet.anchors = anchors
    bundle = tmp_path_factory.mktemp("trust8") / "fleet-bundle.pem"
    bundle.write_bytes(anchors.bundle_pem)
    fleet.bundle_path = bundle
    with fleet:
        yield fleet


@pytest.fixture(scope="session")
def moto_url():
    """`python -m fleet.moto_server` on a free loopback port, for tests whose subprocesses
    (workers, management commands) sync from it; `fleet.moto_server.reset` empties it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "fleet.moto_server", "--port", "0"],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
