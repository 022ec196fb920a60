"""A MySQL 8 persona as a fleet server: its spec, and the process that serves it.

`PersonaSpec` is to the persona what `fleet.mariadb.ServerSpec` is to a real MariaDB: the
TLS options, plus the world MySQL would hold (channels, Group Replication, client threads).
`PersonaProcess` has the same face as `MariaDBServer` (host, port, the four accounts,
launch/wait_ready/stop), so `fleet.mariadb.Fleet` starts both kinds side by side.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from fleet.certs import ServerCertificate
from fleet.mysql8.world import Account, Channel, ClientThread, World
from fleet.server_process import ServerProcess

_REPOSITORY = Path(__file__).resolve().parent.parent.parent
# The checker's grants on MySQL 8 (docs/reference/mysql-tls.md "Checker account").
CHECKER_PRIVILEGES = ("PROCESS", "REPLICATION CLIENT")
CHECKER_SELECTS = ("mysql.user", "performance_schema.*")


@dataclass(frozen=True)
class PersonaSpec:
    """One MySQL 8 scenario. `certificate=None`: no TLS at all (have_ssl=DISABLED)."""

    name: str
    version: str = "8.0.39"
    certificate: ServerCertificate | None = None
    require_secure_transport: bool = False
    tls_version: str | None = None  # None: the version's default
    ssl_cipher: str | None = None
    tls_ciphersuites: str | None = None
    accounts_without_ssl: bool = True
    host: str = "127.0.0.1"
    port: int = 0
    channels: tuple[Channel, ...] = ()
    group_replication: tuple[tuple[str, str], ...] | None = None
    group_members: tuple[dict, ...] = ()
    client_threads: tuple[ClientThread, ...] = ()
    # The checker's plugin: caching_sha2_password (8.0/8.4 default) or mysql_native_password.
    checker_plugin: str = "caching_sha2_password"
    checker_privileges: tuple[str, ...] = CHECKER_PRIVILEGES
    checker_selects: tuple[str, ...] = CHECKER_SELECTS
    canary_plugin: str = "mysql_native_password"
    auto_generate_certs: bool = True
    extra_variables: tuple[tuple[str, str], ...] = ()
    ssl_ca: str = "ca.pem"
    ssl_cert: str = "server-cert.pem"
    # OpenSSL's security level 0 (RSA-1024 keys, SHA-1 signatures), as on a legacy server.
    permissive_openssl: bool = False
    # Kept for Fleet's interface (MariaDB-only options).
    init_statements: tuple[str, ...] = field(default=(), repr=False)


@dataclass
class Credentials:
    username: str
    password: str = field(repr=False)


def _openssl_cnf(spec: PersonaSpec, world: World) -> str:
    """TLS 1.3 suites and the floor for legacy versions, as OpenSSL's system default."""
    lines = [
        "openssl_conf = openssl_init",
        "[openssl_init]",
        "ssl_conf = ssl_sect",
        "[ssl_sect]",
        "system_default = system_default_sect",
        "[system_default_sect]",
        "MinProtocol = TLSv1",
        f"Ciphersuites = {world.effective_tls_ciphersuites}",
    ]
    return "\n".join(lines) + "\n"


class PersonaProcess(ServerProcess):
    """A running persona (`python -m fleet.mysql8.server`)."""

    stop_timeout = 10.0

    def __init__(self, spec: PersonaSpec, base_dir: Path):
        self.spec = spec
        self.dir = base_dir / spec.name
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.checker = Credentials("tlsposture", secrets.token_urlsafe(18))
        self.app_ssl = Credentials("app_ssl", secrets.token_urlsafe(18))
        self.app_plain = Credentials("app_plain", secrets.token_urlsafe(18))
        self.canary = Credentials("tlsp_canary", secrets.token_urlsafe(18))

    @property
    def host(self) -> str:
        return self.spec.host

    def world(self) -> World:
        spec = self.spec
        has_tls = spec.certificate is not None
        require = "ANY" if has_tls else ""
        accounts = [
            Account(
                self.checker.username,
                self.checker.password,
                plugin=spec.checker_plugin,
                ssl_type=require,
                privileges=spec.checker_privileges,
                selects=spec.checker_selects,
            ),
            Account(self.app_ssl.username, self.app_ssl.password, ssl_type=require),
            Account(self.canary.username, self.canary.password, plugin=spec.canary_plugin),
        ]
        if spec.accounts_without_ssl:
            accounts.append(Account(self.app_plain.username, self.app_plain.password))
        return World(
            version=spec.version,
            require_secure_transport=spec.require_secure_transport,
            tls_version=spec.tls_version,
            ssl_cipher=spec.ssl_cipher,
            tls_ciphersuites=spec.tls_ciphersuites,
            auto_generate_certs=spec.auto_generate_certs,
            ssl_ca=spec.ssl_ca,
            ssl_cert=spec.ssl_cert,
            accounts=accounts,
            channels=list(spec.channels),
            group_replication=dict(spec.group_replication)
            if spec.group_replication is not None
            else None,
            group_members=[dict(m) for m in spec.group_members],
            client_threads=list(spec.client_threads),
            extra_variables=dict(spec.extra_variables),
            permissive_openssl=spec.permissive_openssl,
            tls_configured=has_tls,
        )

    def launch(self) -> None:
        if not ipaddress.ip_address(self.host).is_loopback:
            raise RuntimeError(f"{self.spec.name}: test servers listen on loopback only")
        if self.dir.exists():
            shutil.rmtree(self.dir)
        (self.dir / "tls").mkdir(parents=True)
        world = self.world()
        if self.spec.certificate is not None:
            self.spec.certificate.write(self.dir / "tls")
        # Port 0 unless the spec fixes one: the persona binds it and names it in `ready`.
        config = {"host": self.host, "port": self.spec.port or 0, "world": world.to_json()}
        persona = self.dir / "persona.json"
        persona.write_text(json.dumps(config))
        persona.chmod(0o600)
        cnf = self.dir / "openssl.cnf"
        cnf.write_text(_openssl_cnf(self.spec, world))
        env = {**os.environ, "OPENSSL_CONF": str(cnf), "PYTHONPATH": str(_REPOSITORY)}
        args = [sys.executable, "-m", "fleet.mysql8.server", str(self.dir)]
        if shutil.which("setpriv"):
            args = ["setpriv", "--pdeathsig", "TERM", "--", *args]
        log = (self.dir / "error.log").open("wb")
        self.process = subprocess.Popen(
            args,
            env=env,
            cwd=_REPOSITORY,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.spec.name}: persona exited\n{self.log_tail()}")
            ready = self.dir / "ready"
            if ready.exists():
                self.port = int(ready.read_text())
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.spec.name}: not ready after {timeout:.0f}s\n{self.log_tail()}")
