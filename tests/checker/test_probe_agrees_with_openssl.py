"""The probe's verdicts agree with `openssl s_client -starttls mysql`, on the MySQL 8 persona
and on real MariaDB, for every protocol version and cipher class the local OpenSSL can ask.

The probe asks with hand-built ClientHellos; OpenSSL asks with its own handshake after the
same SSLRequest. SSLv3 is left out: this OpenSSL has no SSLv3 client. A cipher class whose
suites this OpenSSL does not implement at all is left out for the same reason.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from checker.cipher_suites import class_suites, suite_name
from checker.deadline import Deadline
from checker.evidence import ACCEPTED, CIPHER_CLASSES, REJECTED
from checker.probe import ProbeLimits, probe_endpoint
from common.engines import TLS13_SUITES
from fleet.mysql8.scenarios import MYSQL8_SCENARIOS
from fleet.scenarios import endpoint_name

_VERSION_FLAGS = {
    "TLSv1.0": "-tls1",
    "TLSv1.1": "-tls1_1",
    "TLSv1.2": "-tls1_2",
    "TLSv1.3": "-tls1_3",
}
_LEGACY_OFFER = "ALL:!aNULL:!eNULL:@SECLEVEL=0"  # what the probe's default offer covers
MARIADB_SCENARIOS = ("enforced", "legacy", "weak_cert", "ec_key")


def _openssl(server, *options: str) -> bool | None:
    """True: a handshake completed; False: refused; None: this OpenSSL cannot ask."""
    done = subprocess.run(
        ["openssl", "s_client", "-brief", "-starttls", "mysql",
         "-connect", f"{server.host}:{server.port}", *options],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    if "CONNECTION ESTABLISHED" in output:
        return True
    if "no cipher match" in output or "no ciphers available" in output:
        return None
    return False


def _openssl_version(server, version: str) -> bool | None:
    options = [_VERSION_FLAGS[version]]
    if version == "TLSv1.3":
        options += ["-ciphersuites", ":".join(TLS13_SUITES.values())]
    else:
        options += ["-cipher", _LEGACY_OFFER]
    return _openssl(server, *options)


def _openssl_class(server, cipher_class: str) -> bool | None:
    names = ":".join(suite_name(i) for i in class_suites(cipher_class))
    return _openssl(server, "-no_tls1_3", "-cipher", f"{names}:@SECLEVEL=0")


def _compare(fleet, scenario) -> list[str]:
    server = fleet[scenario]
    evidence = probe_endpoint(
        (server.host, server.port),
        endpoint_name(scenario),
        cafile=str(fleet.bundle_path),
        limits=ProbeLimits(connect_timeout=2, read_timeout=2),
        deadline=Deadline(30),
    )
    disagreements, compared = [], 0
    questions = [(v, evidence.protocols[v], _openssl_version) for v in _VERSION_FLAGS]
    questions += [(c, evidence.cipher_classes[c], _openssl_class) for c in CIPHER_CLASSES]
    for what, verdict, ask in questions:
        assert verdict.state in (ACCEPTED, REJECTED), (scenario, what, verdict)
        answer = ask(server, what)
        if answer is None:
            continue
        compared += 1
        if answer != (verdict.state == ACCEPTED):
            disagreements.append(f"{scenario} {what}: probe {verdict.state}, openssl {answer}")
    assert compared >= len(_VERSION_FLAGS) + 2, (scenario, compared)
    return disagreements


pytestmark = [
    pytest.mark.fleet,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl"),
]


@pytest.mark.parametrize("scenario", sorted(MYSQL8_SCENARIOS))
def test_persona(mysql8_fleet, scenario):
    assert _compare(mysql8_fleet, scenario) == []


@pytest.mark.parametrize("scenario", MARIADB_SCENARIOS)
def test_mariadb(tls_fleet, scenario):
    assert _compare(tls_fleet, scenario) == []
