"""The demo's world table holds together, and the shipped accounts file is that table."""

from __future__ import annotations

import re
from pathlib import Path

from demo.accounts import default_wiring, render_accounts
from demo.certificates import authorities
from demo.servers import default_port, prepare
from demo.world import (
    ACCOUNTS,
    DATABASES,
    GRADES_SHOWN,
    NO_NETWORK_PATH,
    PARAMETER_GROUPS,
    SERVERS,
    expected_grades,
    server,
)
from fleet.mariadb import ServerSpec
from fleet.mysql8.persona import PersonaSpec
from posture.catalogue import CATALOGUE, ENTRIES
from posture.grades import SEVERITIES

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_accounts_file_is_the_world_rendered_with_default_ports():
    shipped = (ROOT / "demo" / "accounts.toml").read_text()
    assert shipped == render_accounts(default_wiring()), (
        "demo/accounts.toml is stale: `.venv/bin/python -m demo.accounts > demo/accounts.toml`"
    )


def test_every_database_runs_on_a_server_of_its_own_account():
    for db in DATABASES:
        if db.server == NO_NETWORK_PATH:
            assert db.because == ("evidence.incomplete",), db.identifier
            continue
        assert server(db.server).account == db.account, db.identifier
        assert db.region in db.account.regions, db.identifier


def test_every_server_answers_for_some_database_on_its_own_port():
    used = {db.server for db in DATABASES} - {NO_NETWORK_PATH}
    assert {s.name for s in SERVERS} == used
    ports = [default_port(s) for s in SERVERS]
    assert len(set(ports)) == len(ports)


def test_endpoint_identifiers_are_unique_within_an_account():
    for account in ACCOUNTS:
        names = [e for db in DATABASES if db.account == account for e in db.endpoints]
        assert len(names) == len(set(names)), account.name


def test_custom_parameter_groups_match_their_databases():
    for db in (d for d in DATABASES if d.parameter_group):
        [group] = [
            g
            for g in PARAMETER_GROUPS
            if (g.name, g.account, g.region) == (db.parameter_group, db.account, db.region)
        ]
        family = db.engine + ".".join(db.engine_version.split(".")[:2])
        assert group.family == family, db.identifier
        assert group.cluster == (db.kind == "cluster"), db.identifier


def test_the_grades_are_set_by_catalogue_findings_that_cap_that_low():
    for db in DATABASES:
        assert db.grade in GRADES_SHOWN, db.identifier
        assert all(finding in ENTRIES for finding in db.because), db.identifier
        assert bool(db.because) == (db.grade != "A+"), db.identifier


def test_each_grade_the_catalogue_can_give_is_planned_and_d_is_not_one_of_them():
    caps = {entry.cap_for(severity) for entry in CATALOGUE for severity in SEVERITIES}
    assert "D" not in caps  # what the README says: no finding caps at D
    assert {*caps, "A+"} == set(GRADES_SHOWN)
    assert {db.grade for db in DATABASES} == set(GRADES_SHOWN)


def test_the_readme_lists_every_endpoint_with_its_expected_grade():
    expected = {
        f"{account}/{endpoint}": grade for (account, endpoint), grade in expected_grades().items()
    }
    listed = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("| demo-"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            name, grade = cells[0].split(" (+")[0], cells[-1]
            listed[name] = grade
            for member in re.findall(r"[\w-]+", cells[0].partition(" (+")[2]):
                listed[f"{name.split('/')[0]}/{member}"] = grade
    assert listed == expected


def test_mysql_8_endpoints_are_mysql_8_personas_and_the_rest_real_mariadb(tmp_path):
    endpoints = {
        (db.account.name, e): (f"{e}.demo.test",) for db in DATABASES for e in db.endpoints
    }
    prepared = prepare(tmp_path, endpoints, authorities(tmp_path / "ca"), fixed_ports=False)
    served = {db.server: db for db in DATABASES if db.server != NO_NETWORK_PATH}
    kinds = {p.server.name: type(p.spec) for p in prepared}
    assert set(kinds) == set(served)
    for name, kind in kinds.items():
        db = served[name]
        mysql8 = db.engine.lower() in ("mysql", "aurora-mysql") and db.engine_version[:2] == "8."
        assert kind is (PersonaSpec if mysql8 else ServerSpec), name
    assert kinds["gr-legacy-recovery"] is kinds["replica-unverified"] is PersonaSpec
    specs = {p.server.name: p.spec for p in prepared}
    recovery = dict(specs["gr-legacy-recovery"].group_replication)
    assert recovery["group_replication_recovery_tls_version"] == "TLSv1,TLSv1.1"
    (channel,) = specs["replica-unverified"].channels
    assert (channel.ssl, channel.verify_server_cert) == (True, False)
