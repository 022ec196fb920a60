"""schemathesis runs every check it has against the API on a live server, with a real token,
from the schema the server itself publishes at /api/v1/openapi.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from api.services import create_token
from fleet.synthetic import seed_fleet
from tests.teams import join_team

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.long(seconds=90)]

# A fixed seed keeps CI reproducible; TLSPOSTURE_SCHEMATHESIS_SEED=random (or a number)
# explores other inputs.
SEED = os.environ.get("TLSPOSTURE_SCHEMATHESIS_SEED", "18")
EXAMPLES = os.environ.get("TLSPOSTURE_SCHEMATHESIS_EXAMPLES", "20")


def test_schemathesis_finds_nothing(live_server, tmp_path):
    seed_fleet(30)
    user = join_team(get_user_model().objects.create_user("schemathesis", password="x-0123"))
    _, token = create_token(user, "schemathesis")
    request = urllib.request.Request(  # noqa: S310 - the live server on loopback
        live_server.url + "/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        schema = json.load(response)
    schema_file = tmp_path / "openapi.json"
    schema_file.write_text(json.dumps(schema))
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        str(schema_file),
        "--url",
        live_server.url,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--max-examples",
        EXAMPLES,
        "--workers",
        # Four at once: the live server answers each request in tens of milliseconds, most
        # of it waiting, and the coverage phase sends some 1,700 of them.
        "4",
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path / "reports"),
    ]
    if SEED != "random":
        command += ["--seed", SEED]
    run = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=tmp_path,  # schemathesis keeps a cache (.schemathesis/) where it runs
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-12000:]
    assert "passed" in output
    # Every operation of the schema was exercised, none skipped.
    operations = sum(len(methods) for methods in schema["paths"].values())
    assert operations == 6
    assert f"{operations} passed" in output or f"{operations} operations" in output, output[-3000:]
