"""Start real MariaDB servers with chosen TLS options on free loopback ports.

Each server gets its own data directory (copied from one template made per process), its
own unix socket, and the accounts a checker test needs. Servers are stopped by `stop()`,
by the `Fleet` context manager, at interpreter exit, and — through a parent-death signal —
even when the process that started them is killed.
"""

from __future__ import annotations

import atexit
import ipaddress
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pymysql

from fleet.certs import Authority, ServerCertificate
from fleet.server_process import ServerProcess

MARIADBD_CANDIDATES = ("/usr/sbin/mariadbd", "/usr/sbin/mysqld", "mariadbd")
INSTALL_DB = ("mariadb-install-db", "mysql_install_db")
# Small buffers: a test server holds a few rows, and many run side by side.
_BASE_OPTIONS = (
    "--skip-name-resolve",
    "--skip-log-bin",
    "--innodb-buffer-pool-size=16M",
    "--innodb-log-file-size=4M",
    "--max-connections=200",
    "--skip-host-cache",
)
# Lets a scenario run what OpenSSL's default security level forbids (TLS 1.0/1.1,
# RSA-1024 keys, SHA-1 signatures), as a legacy server in the field would.
_PERMISSIVE_OPENSSL_CNF = """\
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MinProtocol = TLSv1
CipherString = ALL:@SECLEVEL=0
"""


def _needs_permissive_openssl(spec: ServerSpec) -> bool:
    if spec.permissive_openssl is not None:
        return spec.permissive_openssl
    if spec.certificate is None:
        return False
    cert = spec.certificate.cert
    key_bits = getattr(cert.public_key(), "key_size", 4096)
    signed_with = cert.signature_hash_algorithm
    weak_key = key_bits < 2048 and not hasattr(cert.public_key(), "curve")
    return weak_key or (signed_with is not None and signed_with.name in ("sha1", "md5"))


class FleetError(RuntimeError):
    """A server could not be prepared or started; the message carries the server's log tail."""


class PortTaken(FleetError):
    """Another process bound the port between its choice and the server's start."""


def find_mariadbd() -> str | None:
    for candidate in MARIADBD_CANDIDATES:
        path = shutil.which(candidate)
        if path:
            return path
    return None


def _ephemeral_ports() -> range:
    """The ports the kernel hands to outgoing connections and to bind(port 0)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(32768, 61000)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now, for a server that cannot pick its own (mariadbd).
    Chosen below the kernel's ephemeral range: a port from bind(port 0) is free only until
    the next outgoing connection takes it, and the suite makes thousands of those while a
    server starts (three test processes side by side)."""
    ephemeral = _ephemeral_ports()
    candidates = range(10000, ephemeral.start) if ephemeral.start > 11000 else ephemeral
    for _ in range(200):
        port = secrets.choice(candidates)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    raise FleetError(f"no free port on {host} after 200 tries")


@dataclass(frozen=True)
class ServerSpec:
    """One TLS scenario. `certificate=None` means a server with no TLS at all."""

    name: str
    certificate: ServerCertificate | None = None
    client_ca: Authority | None = None
    require_secure_transport: bool = False
    tls_version: str | None = None  # e.g. "TLSv1.0,TLSv1.1,TLSv1.2"; None: server default
    ssl_cipher: str | None = None  # e.g. "ALL:@SECLEVEL=0"
    # See _PERMISSIVE_OPENSSL_CNF. None: only when the certificate itself needs it (an
    # RSA key under 2048 bits or a SHA-1 signature would stop mariadbd from starting).
    permissive_openssl: bool | None = None
    accounts_without_ssl: bool = True  # an application account without REQUIRE SSL
    # Any address of 127.0.0.0/8 (all loopback on Linux): servers on different addresses
    # count as different hosts for the checker's per-host limit, as real endpoints do.
    host: str = "127.0.0.1"
    extra_options: tuple[str, ...] = ()
    # MariaDB's default is OFF; ON shows each client connection's TLS (performance_schema
    # threads and status_by_thread, docs/reference/mysql-tls.md "Client connections").
    performance_schema: bool = False
    # SQL run at startup after the accounts (e.g. CHANGE MASTER for replication channels).
    init_statements: tuple[str, ...] = ()
    port: int = 0  # 0: a free loopback port chosen at launch


@dataclass
class Credentials:
    username: str
    password: str = field(repr=False)


class MariaDBServer(ServerProcess):
    """A running `mariadbd`. Use `Fleet` to start several at once."""

    @property
    def host(self) -> str:
        return self.spec.host

    def __init__(
        self,
        spec: ServerSpec,
        base_dir: Path,
        template: Callable[[], Path],
        binary: str,
        *,
        keep_data: bool = False,
    ):
        self.spec = spec
        self.dir = base_dir / spec.name
        self.template = template
        self.binary = binary
        self.keep_data = keep_data
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.socket_path = self.dir / "s.sock"
        # Fresh random passwords per server: nothing reusable ever lands in a fixture.
        self.checker = Credentials("tlsposture", secrets.token_urlsafe(18))
        self.app_ssl = Credentials("app_ssl", secrets.token_urlsafe(18))
        self.app_plain = Credentials("app_plain", secrets.token_urlsafe(18))
        self.canary = Credentials("tlsp_canary", secrets.token_urlsafe(18))

    # -- lifecycle ------------------------------------------------------------------------

    def launch(self) -> None:
        """Prepare the data directory and spawn the server (call from the main thread)."""
        data = self.dir / "data"
        if not (self.keep_data and data.is_dir()):
            if self.dir.exists():
                shutil.rmtree(self.dir)
            self.dir.mkdir(parents=True)
            shutil.copytree(self.template(), data, symlinks=True)
        if not ipaddress.ip_address(self.host).is_loopback:
            raise FleetError(f"{self.spec.name}: test servers listen on loopback only")
        self.port = self.spec.port or free_port(self.host)
        tls_dir = self.dir / "tls"
        tls_dir.mkdir(exist_ok=True)
        args = [
            self.binary,
            "--no-defaults",
            f"--datadir={data}",
            f"--socket={self.socket_path}",
            f"--port={self.port}",
            f"--bind-address={self.host}",
            f"--pid-file={self.dir / 'mariadbd.pid'}",
            f"--log-error={self.dir / 'error.log'}",
            f"--init-file={self._write_init_sql()}",
            f"--tmpdir={self._scratch_dir()}",
            *_BASE_OPTIONS,
            f"--performance-schema={'ON' if self.spec.performance_schema else 'OFF'}",
        ]
        if os.geteuid() == 0:
            args.append("--user=root")
        spec = self.spec
        if spec.certificate is not None:
            cert_path, key_path = spec.certificate.write(tls_dir)
            args += [f"--ssl-cert={cert_path}", f"--ssl-key={key_path}"]
            if spec.client_ca is not None:
                args.append(f"--ssl-ca={spec.client_ca.write(tls_dir / 'client-ca.pem')}")
        if spec.require_secure_transport:
            args.append("--require-secure-transport=ON")
        if spec.tls_version:
            args.append(f"--tls-version={spec.tls_version}")
        if spec.ssl_cipher:
            args.append(f"--ssl-cipher={spec.ssl_cipher}")
        args += list(spec.extra_options)
        env = dict(os.environ)
        if _needs_permissive_openssl(spec):
            cnf = self.dir / "openssl.cnf"
            cnf.write_text(_PERMISSIVE_OPENSSL_CNF)
            env["OPENSSL_CONF"] = str(cnf)
        if shutil.which("setpriv"):
            # The server dies with the process that started it, even on SIGKILL.
            args = ["setpriv", "--pdeathsig", "TERM", "--", *args]
        self.process = subprocess.Popen(
            args,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                tail = self.log_tail()
                if "Address already in use" in tail and not self.spec.port:
                    raise PortTaken(f"{self.spec.name}: port {self.port} was taken\n{tail}")
                raise FleetError(f"{self.spec.name}: mariadbd exited\n{tail}")
            try:
                with self.admin_connection() as conn, conn.cursor() as cur:
                    cur.execute("SELECT COUNT(*) FROM mysql.user WHERE user = %s", ["tlsposture"])
                    if cur.fetchone()[0]:
                        return
            except pymysql.Error:
                pass
            time.sleep(0.05)
        raise FleetError(f"{self.spec.name}: not ready after {timeout:.0f}s\n{self.log_tail()}")

    # -- access ---------------------------------------------------------------------------

    def admin_connection(self, **kwargs) -> pymysql.Connection:
        """root over the unix socket: for fixtures only, never for the code under test."""
        return pymysql.connect(
            unix_socket=str(self.socket_path), user="root", connect_timeout=2, **kwargs
        )

    def query(self, sql: str, args=None) -> list[tuple]:
        with self.admin_connection() as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def _scratch_dir(self) -> Path:
        scratch = self.dir / "tmp"
        scratch.mkdir(exist_ok=True)
        return scratch

    def _write_init_sql(self) -> Path:
        has_tls = self.spec.certificate is not None
        require = " REQUIRE SSL" if has_tls else ""
        # CREATE OR REPLACE: a kept data directory (keep_data) takes this run's passwords.
        statements = [
            # The checker: read-only, and itself only reachable over TLS where TLS exists.
            f"CREATE OR REPLACE USER '{self.checker.username}'@'%' "
            f"IDENTIFIED BY '{self.checker.password}'{require}",
            f"GRANT PROCESS, BINLOG MONITOR, SLAVE MONITOR ON *.* TO '{self.checker.username}'@'%'",
            f"GRANT SELECT ON mysql.user TO '{self.checker.username}'@'%'",
            f"GRANT SELECT ON mysql.global_priv TO '{self.checker.username}'@'%'",
            # Who connects, and with which TLS (README "Checking endpoints" grants).
            f"GRANT SELECT ON performance_schema.threads TO '{self.checker.username}'@'%'",
            f"GRANT SELECT ON performance_schema.status_by_thread TO '{self.checker.username}'@'%'",
            f"CREATE OR REPLACE USER '{self.app_ssl.username}'@'%' "
            f"IDENTIFIED BY '{self.app_ssl.password}'{require}",
            f"CREATE OR REPLACE USER '{self.canary.username}'@'%' "
            f"IDENTIFIED BY '{self.canary.password}'",
        ]
        if self.spec.accounts_without_ssl:
            statements.append(
                f"CREATE OR REPLACE USER '{self.app_plain.username}'@'%' "
                f"IDENTIFIED BY '{self.app_plain.password}'"
            )
        statements += self.spec.init_statements
        path = self.dir / "init.sql"
        path.write_text(";\n".join(statements) + ";\n")
        path.chmod(0o600)
        return path


class Fleet:
    """Several servers started in parallel and always stopped.

    with Fleet([ServerSpec("modern", certificate=...), ...]) as fleet:
        fleet["modern"].port
    """

    _template_lock = threading.Lock()
    _template_dir: Path | None = None

    def __init__(
        self, specs: list[ServerSpec], base_dir: Path | None = None, *, keep_data: bool = False
    ):
        """`keep_data`: reuse each server's data directory under `base_dir` when it exists
        (the demo's servers survive restarts); otherwise every start copies a fresh one."""
        from fleet.mysql8.persona import PersonaProcess, PersonaSpec

        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError("server names must be unique within a fleet")
        self.binary = find_mariadbd()
        needs_mariadb = any(not isinstance(s, PersonaSpec) for s in specs)
        if self.binary is None and needs_mariadb:
            raise FleetError("mariadbd not found: install Debian's mariadb-server")
        self._own_dir = base_dir is None
        # Short paths: a unix socket path must stay under 108 bytes.
        self.base_dir = base_dir or Path(tempfile.mkdtemp(prefix="tlsp-fleet-"))
        # MySQL 8 scenarios run as personas (fleet/mysql8/): no MySQL 8 server can be installed.
        self.servers = {
            s.name: PersonaProcess(s, self.base_dir)
            if isinstance(s, PersonaSpec)
            else MariaDBServer(s, self.base_dir, self.template, self.binary, keep_data=keep_data)
            for s in specs
        }
        self._stopped = False

    def __getitem__(self, name: str) -> MariaDBServer:
        return self.servers[name]

    def __iter__(self):
        return iter(self.servers.values())

    @classmethod
    def template(cls) -> Path:
        """A freshly initialised data directory, made once per process and copied per server."""
        with cls._template_lock:
            if cls._template_dir is None or not cls._template_dir.exists():
                target = Path(tempfile.mkdtemp(prefix="tlsp-template-")) / "data"
                # Its own tmpdir: bootstrap temp tables must not meet other processes' files.
                scratch = target.parent / "tmp"
                scratch.mkdir()
                command = next((c for c in INSTALL_DB if shutil.which(c)), None)
                if command is None:
                    raise FleetError("mariadb-install-db not found: install mariadb-server")
                args = [
                    command,
                    "--no-defaults",
                    f"--datadir={target}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    "--skip-name-resolve",
                    "--innodb-log-file-size=4M",
                    "--innodb-buffer-pool-size=16M",
                    f"--tmpdir={scratch}",
                ]
                if os.geteuid() == 0:
                    args.append("--user=root")
                done = subprocess.run(args, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise FleetError(f"{command} failed:\n{done.stdout}\n{done.stderr}")
                cls._template_dir = target
                atexit.register(shutil.rmtree, target.parent, True)
            return cls._template_dir

    def start(self, timeout: float = 30.0) -> Fleet:
        atexit.register(self.stop)

        def port_taken(server) -> bool:
            try:
                server.wait_ready(timeout)
            except PortTaken:
                return True
            return False

        try:
            pending = list(self.servers.values())
            for _ in range(3):  # a server whose port was taken starts again on another
                for server in pending:
                    server.launch()  # main thread: the parent-death signal follows this thread
                with ThreadPoolExecutor(max_workers=len(pending) or 1) as pool:
                    taken = list(pool.map(port_taken, pending))
                pending = [server for server, lost in zip(pending, taken, strict=True) if lost]
                if not pending:
                    break
            else:
                raise FleetError(f"no free port for {', '.join(s.spec.name for s in pending)}")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        with ThreadPoolExecutor(max_workers=len(self.servers) or 1) as pool:
            list(pool.map(lambda s: s.stop(), self.servers.values()))
        if self._own_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> Fleet:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
