"""Fuzz the parsers of server input for a while; print executions and crashes per target.

    .venv/bin/python bench/fuzz.py [--seconds S] [--seed N] [--target NAME]

The targets and seeds are fleet/fuzzing.py's (the suite runs the same targets for a few
seconds with Hypothesis, tests/fuzz). Each execution takes a seed, applies a handful of
random mutations — bit flips, boundary bytes, inserted and deleted runs, cuts, a length
field set to an extreme, a splice of two seeds — and runs the target; an input that
mutates without a crash may join the corpus. A crash is any exception but the parser's own
documented errors; each distinct one (type and place) is printed once with its input in
hex, to be fixed and added to tests/fuzz/test_parsers.py REGRESSIONS. Exits 1 on a crash.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BOUNDARY = (0x00, 0x01, 0x02, 0x03, 0x04, 0x0B, 0x0E, 0x15, 0x16, 0x7F, 0x80, 0xFE, 0xFF)
CORPUS_LIMIT = 400


def mutate(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        choice = rng.randrange(7)
        at = rng.randrange(len(out)) if out else 0
        if choice == 0 and out:
            out[at] ^= 1 << rng.randrange(8)
        elif choice == 1 and out:
            out[at] = rng.choice(BOUNDARY)
        elif choice == 2:
            out[at:at] = os.urandom(rng.randint(1, 16))
        elif choice == 3 and out:
            del out[at : at + rng.randint(1, 32)]
        elif choice == 4 and out:
            del out[at:]
        elif choice == 5 and len(out) > at + 3:
            out[at : at + 3] = rng.choice((b"\xff\xff\xff", b"\x00\x00\x00", b"\x00\x40\x00"))
        elif choice == 6 and corpus:
            other = rng.choice(corpus)
            cut = rng.randrange(len(other) + 1)
            out = out[:at] + bytearray(other[cut:])
    return bytes(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="per target")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--target", action="append", default=[])
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tlsposture.settings_test")

    from fleet.fuzzing import TARGETS, seeds

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    print(f"seed {seed}, {args.seconds:g} s per target")
    total_crashes = 0
    for name in args.target or sorted(TARGETS):
        target, corpus = TARGETS[name], list(seeds()[name])
        executions, crashes = 0, {}
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            data = mutate(rng, rng.choice(corpus), corpus)
            executions += 1
            try:
                target(data)
            except Exception as exc:  # the fuzzer's job: every other exception is a crash
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                key = (type(exc).__name__, frame.filename, frame.lineno)
                if key not in crashes:
                    crashes[key] = (exc, data)
                continue
            if len(corpus) < CORPUS_LIMIT and rng.random() < 0.01:
                corpus.append(data)
        rate = executions / args.seconds
        print(f"{name:<14} {executions:>9,} executions ({rate:,.0f}/s), {len(crashes)} crashes")
        for (kind, filename, line), (exc, data) in crashes.items():
            shown = filename.removeprefix(f"{ROOT}/")
            where = f"{shown}:{line}"
            print(f"  CRASH {kind} at {where}: {str(exc)[:160]}")
            print(f"    input ({len(data)} bytes): {data.hex()}")
        total_crashes += len(crashes)
    print(f"total crashes: {total_crashes}")
    return 1 if total_crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
