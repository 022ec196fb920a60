#!/usr/bin/env bash
# Install what the project needs from Debian when it is missing:
#   mariadb-server  real MariaDB servers for the test fleet and the demo
#   chromium        headless browser tests (chromium-driver comes along for Selenium users)
#   faketime        libfaketime, which moves the clock for `make test-future`
#   prometheus      a real Prometheus (and promtool) for the metrics and alert-rule tests
set -euo pipefail

missing=()
if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
  missing+=(mariadb-server)
fi
if ! command -v mariadb-install-db >/dev/null && [ ! -x /usr/bin/mariadb-install-db ]; then
  missing+=(mariadb-server)
fi
if [ "${TLSPOSTURE_SKIP_CHROMIUM:-0}" != 1 ] && ! command -v chromium >/dev/null; then
  missing+=(chromium)
fi
if [ "${TLSPOSTURE_SKIP_FAKETIME:-0}" != 1 ] && ! command -v faketime >/dev/null; then
  missing+=(faketime)
fi

if [ "${TLSPOSTURE_SKIP_PROMETHEUS:-0}" != 1 ] \
  && { ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; }; then
  missing+=(prometheus)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "== installing from Debian: ${missing[*]}"
sudo=""
if [ "$(id -u)" != 0 ]; then
  sudo="sudo"
fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
