"""A short fuzzing run of the parsers that read server input (fleet/fuzzing.py): mutated
greetings, ERR packets, TLS flights and certificates. The long run is bench/fuzz.py.

Every crash a fuzzer found is fixed and kept below as a regression case."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.fuzzing import TARGETS, seeds

SHORT = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def mutated(draw, target: str) -> bytes:
    """A seed of `target` with a few bytes flipped, inserted, deleted or cut off."""
    data = bytearray(draw(st.sampled_from(seeds()[target])))
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        operation = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        if operation == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif operation == "set":
            data[at] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF]))
        elif operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif operation == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            del data[at:]
    return bytes(data)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_mutated_seeds_keep_the_contract(target):
    @SHORT
    @given(mutated(target))
    def run(data):
        TARGETS[target](data)

    run()


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_random_bytes_keep_the_contract(target):
    @SHORT
    @given(st.binary(max_size=600))
    def run(data):
        TARGETS[target](data)

    run()


def _with_version(der: bytes, version: int) -> bytes:
    """The seed certificate with its version field (v3 = 2) set to `version`."""
    return der.replace(bytes.fromhex("a003020102"), bytes([0xA0, 3, 2, 1, version]), 1)


# Crashes the fuzzers found, fixed, kept as regression cases: (target, input builder).
REGRESSIONS = {
    # bench/fuzz.py --seed 1: a Certificate message whose certificate has version 66.
    # cryptography raised InvalidVersion (no ValueError) from load(), which escaped the
    # probe's trust judgement (_too_weak_for_default_security caught only ValueError).
    "certificate version out of range": (
        "certificate",
        lambda: _with_version(seeds()["certificate"][0], 0x42),
    ),
    "the same inside a TLS 1.2 flight": (
        "server_answer",
        lambda: seeds()["server_answer"][0].replace(
            seeds()["certificate"][0], _with_version(seeds()["certificate"][0], 0x42)
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(REGRESSIONS))
def test_crashes_found_by_fuzzing_stay_fixed(case):
    target, build = REGRESSIONS[case]
    data = build()
    assert data not in seeds()[target]  # the mutation really is in the input
    TARGETS[target](data)
