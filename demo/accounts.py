"""The demo's accounts file (docs/design.md "Interfaces that scripts and CI pipelines rely
on"), written from the world table.

demo/accounts.toml ships in the repository as a readable example; it is exactly what this
module renders with the demo's default ports and paths (`python -m demo.accounts` prints
it, and a test keeps the two equal). Each run writes the same with its actual ports and
absolute paths to `<demo dir>/accounts.toml` and imports that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from demo.servers import default_port
from demo.world import (
    ACCOUNTS,
    ALIYUN_ACCESS_KEY_ID_ENV,
    ALIYUN_ACCESS_KEY_SECRET_ENV,
    DATABASES,
    SERVERS,
)

DEFAULT_MOTO_PORT = 5000
DEFAULT_ALIYUN_PORT = 9000
DEFAULT_BUNDLE_DIR = "var/demo/ca"
# A loopback port the demo holds bound and never listens on: connections to it are refused,
# which is what "no network path" looks like to the checker.
DEFAULT_CLOSED_PORT = 3309
BUNDLE_KINDS = ("rds", "apsaradb", "public")
CHECKER_USERNAME = "tlsposture"

HEADER = """\
# The demo's cloud accounts and checker profiles, in the format of docs/design.md
# "Interfaces that scripts and CI pipelines rely on".
# Rendered from demo/world.py (`python -m demo.accounts`). `make demo` writes the same with
# the ports and paths of its run to var/demo/accounts.toml and imports that file.
#
# No secret is written here: keys and passwords are named by environment variable, and the
# demo generates their values for each run and hands them only to the commands it starts.
"""

CHECKERS_INTRO = """\
# One profile per endpoint: the checker dials the endpoint's demo server on loopback
# (connect_host/connect_port) while the name it verifies stays the cloud endpoint name.
"""


@dataclass(frozen=True)
class Wiring:
    """Where this run's services listen, and where its trust bundles are."""

    moto_url: str
    aliyun_endpoint: str  # host:port
    bundles: dict[str, str]  # "rds" | "apsaradb" | "public" → PEM path
    ports: dict[str, int]  # server name → port
    closed_port: int = DEFAULT_CLOSED_PORT  # where databases without a network path dial


def default_wiring() -> Wiring:
    return Wiring(
        moto_url=f"http://127.0.0.1:{DEFAULT_MOTO_PORT}",
        aliyun_endpoint=f"127.0.0.1:{DEFAULT_ALIYUN_PORT}",
        bundles={kind: f"{DEFAULT_BUNDLE_DIR}/{kind}-bundle.pem" for kind in BUNDLE_KINDS},
        ports={server.name: default_port(server) for server in SERVERS},
    )


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(value)  # a TOML basic string takes JSON's escapes


def _table(name: str, values: dict, comment: str = "") -> str:
    lines = [f"# {comment}"] if comment else []
    lines.append(f"[[{name}]]")
    lines += [f"{key} = {_value(value)}" for key, value in values.items() if value != ""]
    return "\n".join(lines) + "\n"


def _account(account, wiring: Wiring) -> dict:
    values = {"name": account.name, "provider": account.provider, "regions": account.regions}
    if account.provider == "aws":
        values["role_arn"] = account.role_arn
        values["endpoint_url"] = wiring.moto_url
        values["ca_bundle"] = wiring.bundles["rds"]
        # RDS Proxy certificates chain to the Amazon Trust Services roots (here: a stand-in).
        values["proxy_ca_bundle"] = wiring.bundles["public"]
    else:
        values["access_key_id_env"] = ALIYUN_ACCESS_KEY_ID_ENV
        values["access_key_secret_env"] = ALIYUN_ACCESS_KEY_SECRET_ENV
        values["endpoint"] = wiring.aliyun_endpoint
        values["protocol"] = "http"
        values["ca_bundle"] = wiring.bundles["apsaradb"]
    return values


def render_accounts(wiring: Wiring) -> str:
    parts = [HEADER]
    parts += [_table("account", _account(account, wiring)) for account in ACCOUNTS]
    parts.append(CHECKERS_INTRO.rstrip("\n"))
    for db in DATABASES:
        # A cluster's glob covers its members, which answer on the same server.
        match = f"{db.account.name}/{db.identifier}" + ("*" if db.members else "")
        profile = {
            "match": match,
            "username": CHECKER_USERNAME,
            "password_env": db.account.password_env,
            "connect_host": "127.0.0.1",
            "connect_port": wiring.ports[db.server] if db.server else wiring.closed_port,
        }
        runs_on = f'server "{db.server}"' if db.server else "no network path (a closed port)"
        comment = f"{db.identifier}: {runs_on}, expected {db.grade} — {db.shows}"
        parts.append(_table("checker", profile, comment))
    return "\n".join(parts)


def main() -> int:
    print(render_accounts(default_wiring()), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
