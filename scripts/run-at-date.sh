#!/usr/bin/env bash
# Run a command with the wall clock moved by libfaketime (Debian's `faketime`), e.g.
#   scripts/run-at-date.sh '+400 days' .venv/bin/pytest
# The offset is anything `date -d` reads ('+400 days', '-2 months', 'next friday').
# Every process the command starts inherits the moved clock (LD_PRELOAD, one shared offset):
# Python, mariadbd with its OpenSSL, Celery workers, moto, the Alibaba API server, Chromium.
# Servers started outside it (the machine's PostgreSQL, Redis, RabbitMQ) keep the real one.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 OFFSET COMMAND [ARG...]" >&2
  exit 2
fi
when=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v faketime >/dev/null; then
  echo "faketime is missing: scripts/ensure-system-deps.sh installs Debian's faketime" >&2
  exit 1
fi

# Only the wall clock moves: the monotonic clock has no date in it, and with it faked
# libfaketime 0.9.10 hangs every timed wait (glibc's sem_clockwait is not intercepted).
# scripts/faketime/sitecustomize.py mends the one call that breaks instead (time.sleep).
export FAKETIME_DONT_FAKE_MONOTONIC=1
# libfaketime turns on its "monotonic fix" by itself on this glibc: pthread_cond_timedwait then
# returns early, and Python's GIL wait becomes a busy loop of futex calls (a process with a few
# threads spent most of its time in the kernel; a threaded live server crawled). The monotonic
# clock is not faked here, so the fix has nothing to fix (README, "The clock"). Chromium alone
# runs on the faked monotonic clock, and with the fix (tests/dashboard/browser.py, browser_env).
export FAKETIME_FORCE_MONOTONIC_FIX=0
export PYTHONPATH="$root/scripts/faketime${PYTHONPATH:+:$PYTHONPATH}"

# A preload that did not take (a static binary, a hardened loader) would test today again.
expected=$(date -u -d "$when" +%s)
moved=$(faketime "$when" date -u +%s)
if ((moved < expected - 5 || moved > expected + 5)); then
  echo "libfaketime did not move the clock: $(date -u -d "@$moved") instead of" \
    "$(date -u -d "@$expected")" >&2
  exit 1
fi
echo "== the clock moved by '$when': real $(date -u '+%Y-%m-%d %H:%M') UTC," \
  "the run sees $(date -u -d "@$moved" '+%Y-%m-%d %H:%M') UTC"
exec faketime "$when" "$@"
