"""The provider seam: a provider registered only here, with its own facts and command
builders, gets its remediation and its own evidence without any change to posture code;
an endpoint of an unregistered provider raises instead of borrowing another's commands."""

from __future__ import annotations

from dataclasses import replace

import pytest

from checker.evidence import ACCEPTED, Verdict
from posture import providers
from posture.fact import Fact
from posture.providers.base import Provider
from posture.rules import evaluate
from tests.posture.builders import (
    NOW,
    aws_mysql,
    checked,
    clean_evidence,
    leaf,
    param,
    without_readiness,
)


class Acme(Provider):
    """A cloud with an `acme db` CLI, a console of its own and a TLS switch ("lock")."""

    name = "acme"
    permissions = {"parameters": "acme:ReadSettings"}
    retired_cas = frozenset({"acme-ca-2020"})

    def change_parameters(self, facts, values):
        settings = " ".join(f"--set {name}={value}" for name, value in values.items())
        return f"acme db configure {facts.identifier} {settings}"

    def enforce_tls(self, effective):
        return f"acme db lock {effective.facts.identifier} --tls-only"

    def enable_tls(self, effective):
        return f"acme db tls enable {effective.facts.identifier}"

    def transport_enforced(self, effective, variable):
        # Acme's lock wins over the parameter: it is in the details the API gave.
        if effective.facts.ssl_forced:
            return Fact(True, {"lock": True}, "api:acme-lock", effective.facts.synced_at)
        return variable

    def enforcement_evidence(self, effective):
        return {"lock": effective.facts.ssl_forced}

    def renew_certificate(self, effective):
        return f"acme db certificate renew {effective.facts.identifier}"

    def rotate_ca(self, effective):
        return f"acme db certificate rotate {effective.facts.identifier} --ca acme-ca-2030"

    def apply_pending_rotation(self, effective, evidence):
        return f"acme db maintenance apply {effective.facts.identifier}"

    def fix_hostname(self, effective):
        return f"acme db certificate rename {effective.facts.identifier}"

    def trust_bundle_hint(self, effective, bundle):
        return f"Download https://pki.acme.invalid/roots.pem in place of {bundle}."

    def tracks_ca(self, facts):
        return True

    def reboot(self, effective):
        return f"acme db restart {effective.facts.identifier}"


@pytest.fixture
def acme():
    provider = providers.register(Acme())
    yield provider
    providers.unregister("acme")


def _acme(**kw):
    defaults = {"provider": "acme", "account": "acme-prod", "region": "acme-1"}
    defaults.update(kw)
    return aws_mysql(**defaults)


def _finding(evaluation, finding_id):
    return next(f for f in evaluation.findings if f.id == finding_id)


def test_a_registered_provider_builds_its_own_remediation(acme):
    evidence = clean_evidence()
    evidence.session.variables.update(
        require_secure_transport="OFF", tls_version="TLSv1.1,TLSv1.2,TLSv1.3"
    )
    stated = (param("require_secure_transport", "0"), param("tls_version", "TLSv1.1"))
    facts = checked(_acme(parameters=stated, ca_identifier="acme-ca-2020"), evidence)
    evaluation = evaluate(facts, NOW)
    assert without_readiness(_finding(evaluation, "transport.not_enforced").remediation) == (
        "acme db lock orders-db --tls-only"
    )
    assert without_readiness(_finding(evaluation, "protocol.legacy_tls").remediation) == (
        "acme db configure orders-db --set tls_version=TLSv1.2,TLSv1.3"
    )
    # Its retired CA list decides ca.deprecated, its builder the fix.
    assert _finding(evaluation, "ca.deprecated").remediation == (
        "acme db certificate rotate orders-db --ca acme-ca-2030"
    )
    # Its own evidence joins the finding's.
    assert _finding(evaluation, "transport.not_enforced").evidence["lock"] is None
    assert not any("aws rds" in f.remediation for f in evaluation.findings)


def test_its_own_enforcement_fact_and_certificate_commands(acme):
    evidence = clean_evidence()
    evidence.session.variables["require_secure_transport"] = "OFF"
    evidence.probe.cipher_classes["static_rsa"] = Verdict(ACCEPTED, suite="AES256-SHA")
    evidence.probe.chain[0] = leaf(self_signed=True)
    facts = checked(
        _acme(
            ssl_forced=True,
            parameters=(param("require_secure_transport", "0"),),
        ),
        evidence,
    )
    evaluation = evaluate(facts, NOW)
    assert "transport.not_enforced" not in evaluation.open_ids  # the lock enforces it
    assert evaluation.summary.transport_enforced_source == "api:acme-lock"
    assert _finding(evaluation, "cipher.no_forward_secrecy").remediation.startswith(
        "acme db configure orders-db --set ssl_cipher=ECDHE-"
    )
    assert _finding(evaluation, "cert.self_signed").remediation == (
        "acme db certificate renew orders-db"
    )


def test_its_permissions_explain_missing_evidence(acme):
    facts = _acme(parameters=(), lookup_errors=(("parameters", "AccessDenied"),))
    evaluation = evaluate(replace(facts, check=None), NOW)
    missing = _finding(evaluation, "evidence.incomplete").evidence["missing"]
    transport = next(m for m in missing if m["fact"] == "transport enforcement")
    assert transport["supplied_by"].startswith("the cloud permission acme:ReadSettings; or ")


def test_an_unregistered_provider_raises_instead_of_borrowing_commands():
    with pytest.raises(providers.UnknownProvider, match="'acme'"):
        evaluate(checked(_acme()), NOW)
