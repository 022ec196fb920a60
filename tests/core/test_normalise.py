from __future__ import annotations

import pytest

from common.normalise import (
    lowest_tls_version,
    normalise_bool,
    normalise_parameter,
    normalise_tls_versions,
    same_parameter_value,
)


@pytest.mark.parametrize("raw", ["1", "ON", "on", "True", "yes", " YES ", 1, True])
def test_on_values(raw):
    assert normalise_bool(raw) is True


@pytest.mark.parametrize("raw", ["0", "OFF", "off", "false", "No", 0, False])
def test_off_values(raw):
    assert normalise_bool(raw) is False


@pytest.mark.parametrize("raw", [None, "", "maybe", "2", 7])
def test_unreadable_booleans_are_unknown_not_off(raw):
    assert normalise_bool(raw) is None


def test_tls_versions_are_canonical_and_order_free():
    assert normalise_tls_versions("TLSv1.3,TLSv1") == ["TLSv1.0", "TLSv1.3"]
    assert normalise_tls_versions("tlsv1.2, TLSv1.1") == ["TLSv1.1", "TLSv1.2"]
    assert same_parameter_value("tls_version", ["TLSv1.2", "TLSv1.3"], ["TLSv1.3", "TLSv1.2"])
    assert not same_parameter_value("tls_version", ["TLSv1.2"], ["TLSv1.2", "TLSv1.3"])


def test_unknown_version_tokens_are_kept_not_dropped():
    assert normalise_tls_versions("TLSv1.2,TLSv9") == ["TLSv1.2", "TLSv9"]


def test_parameters_normalise_by_name():
    assert normalise_parameter("require_secure_transport", "ON") is True
    assert normalise_parameter("tls_version", "TLSv1.2") == ["TLSv1.2"]
    assert normalise_parameter("ssl_cipher", " ALL : @SECLEVEL=0 ") == "ALL:@SECLEVEL=0"
    assert normalise_parameter("tls_version", None) is None


def test_lowest_version():
    assert lowest_tls_version(["TLSv1.3", "TLSv1.1"]) == "TLSv1.1"
    assert lowest_tls_version([]) is None
