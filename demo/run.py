"""`make demo`: build the local world, run tlsposture over it, serve the dashboard.

Steps are printed as they happen. A second run reuses what the first left in the demo
directory (database, admin user, certificates, server data); the clouds and servers are
processes and threads of this run. Ctrl-C (or SIGTERM) stops everything it started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import sys
from pathlib import Path

from demo import product, summary
from demo.accounts import DEFAULT_CLOSED_PORT, Wiring, render_accounts
from demo.aliyun_seed import endpoints as aliyun_endpoints
from demo.certificates import authorities
from demo.clients import start_clients, stop_clients
from demo.clouds import ALIYUN_PORT, MOTO_PORT, AliyunCloud, AwsCloud
from demo.lock import DemoBusy, DemoLock
from demo.progress import Steps
from demo.servers import hold_closed_port, port_is_free, prepare, start
from demo.world import ACCOUNTS, DATABASES, SERVERS
from fleet.mariadb import FleetError
from fleet.mysql8.persona import PersonaSpec

ROOT = product.ROOT
STEPS = 10


class Stopped(Exception):
    """SIGTERM: stop like Ctrl-C does."""


def demo_dir() -> Path:
    return Path(os.environ.get("TLSPOSTURE_DEMO_DIR", ROOT / "var" / "demo")).resolve()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000, help="dashboard port (default 8000)")
    parser.add_argument(
        "--no-serve",
        action="store_true",
        help="build the world, sync, check and report, then stop everything",
    )
    parser.add_argument("--report-json", metavar="FILE", help="also write the JSON report here")
    parser.add_argument(
        "--free-ports",
        action="store_true",
        help="free ports instead of the demo's fixed ones (tests, parallel demos)",
    )
    return parser.parse_args(argv)


def _on_sigterm(signum, frame):
    raise Stopped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A shell starting us in the background may have left SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _on_sigterm)
    directory = demo_dir()
    directory.mkdir(parents=True, exist_ok=True)
    if not args.no_serve and not port_is_free(args.port):
        print(f"port {args.port} is taken: stop what uses it, or run with --port N")
        return 2
    try:
        with DemoLock(directory):
            running = contextlib.ExitStack()
            try:
                return Demo(directory, args, running).run()
            finally:
                # A second Ctrl-C must not cut the clean-up short.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                running.close()
    except (KeyboardInterrupt, Stopped):
        print("\nstopped: every server and process the demo started has ended", flush=True)
        return 0
    except (product.CommandFailed, DemoBusy, FleetError) as failed:
        print(f"\n{failed}", file=sys.stderr)
        return 1


class Demo:
    def __init__(self, directory: Path, args: argparse.Namespace, running: contextlib.ExitStack):
        self.dir = directory
        self.args = args
        self.running = running
        self.steps = Steps(STEPS)
        # Checker passwords, new every run: the servers take them at start, the checker
        # reads them from the environment; neither the files nor the output hold them.
        self.passwords = {a.name: secrets.token_urlsafe(18) for a in ACCOUNTS}
        self.env: dict[str, str] = {}
        self.bundles: dict[str, str] = {}  # "rds" | "apsaradb" → trust bundle path

    def run(self) -> int:
        self.migrate()
        aws = self.start_aws()
        prepared, not_after = self.certificates(aws)
        aliyun = self.start_aliyun(not_after)
        fleet_ports = self.start_servers(prepared)
        credentials = {**aws.environment(), **aliyun.environment()}
        credentials.update({a.password_env: self.passwords[a.name] for a in ACCOUNTS})
        self.env = product.environment(self.dir, credentials)
        self.import_accounts(aws, aliyun, fleet_ports)
        self.sync()
        self.check()
        admin_created = self.admin()
        report = self.report()
        if self.args.no_serve:
            print(f"\nheadless run done — grades {summary.count_line(report)}; stopping")
            return 0
        return self.serve(admin_created, report, aws, aliyun)

    # ---- the steps --------------------------------------------------------------------

    def migrate(self) -> None:
        with self.steps.step(f"database: SQLite in {self.dir}") as step:
            env = product.environment(self.dir, {})
            product.manage(env, "migrate", "--noinput")
            step.say("migrations applied")

    def start_aws(self) -> AwsCloud:
        with self.steps.step("AWS: moto server with the RDS extension") as step:
            aws = AwsCloud(0 if self.args.free_ports else MOTO_PORT)
            self.running.callback(aws.stop)
            self._moved(step, "moto", aws.moved_from, aws.url)
            aws.seed()
            accounts = [a for a in ACCOUNTS if a.provider == "aws"]
            regions = {region for account in accounts for region in account.regions}
            step.say(
                f"{aws.url}: {len(accounts)} accounts, {len(regions)} regions, "
                f"{len(aws.endpoints)} endpoints (RDS MySQL 8.0/5.7, MariaDB 10.11/11.8, "
                "Aurora MySQL, RDS Proxy)"
            )
        return aws

    def certificates(self, aws: AwsCloud):
        with self.steps.step("certificates: demo CAs and one server certificate per server") as s:
            cas = authorities(self.dir / "ca")
            endpoints = {**aws.endpoints, **aliyun_endpoints()}
            prepared = prepare(self.dir, endpoints, cas, fixed_ports=not self.args.free_ports)
            minted = [p for p in prepared if p.spec.certificate and not p.reused_certificate]
            with_tls = [p for p in prepared if p.spec.certificate]
            s.say(
                f"trust bundles in {self.dir / 'ca'}; {len(with_tls)} server certificates "
                f"({len(with_tls) - len(minted)} reused, {len(minted)} minted)"
            )
            not_after = {
                p.server.name: p.spec.certificate.cert.not_valid_after_utc
                for p in prepared
                if p.spec.certificate
            }
            aws.record_server_certificates(not_after)
        self.bundles = {kind: str(path) for kind, path in cas.bundles.items()}
        return prepared, not_after

    def start_aliyun(self, not_after) -> AliyunCloud:
        with self.steps.step("Alibaba Cloud: local ApsaraDB RDS API") as step:
            aliyun = AliyunCloud(not_after, 0 if self.args.free_ports else ALIYUN_PORT)
            self.running.callback(aliyun.stop)
            self._moved(step, "Alibaba API", aliyun.moved_from, aliyun.endpoint)
            count = len([db for db in DATABASES if db.account.provider == "aliyun"])
            step.say(f"http://{aliyun.endpoint}: {count} ApsaraDB RDS for MySQL instances")
        return aliyun

    def start_servers(self, prepared) -> dict[str, int]:
        personas = sum(1 for item in prepared if isinstance(item.spec, PersonaSpec))
        title = (
            f"servers: starting {len(prepared) - personas} MariaDB and {personas} MySQL 8 personas"
        )
        with self.steps.step(title) as step:
            for item in prepared:
                if item.moved_from:
                    step.say(f"port {item.moved_from} is taken: {item.server.name} moves")
            fleet = start(self.dir, prepared, self.passwords)
            self.running.callback(fleet.stop)
            ports = {server.spec.name: server.port for server in fleet}
            low, high = min(ports.values()), max(ports.values())
            step.say(f"on 127.0.0.1:{low}–{high}, data in {self.dir / 'servers'}")
            loops = start_clients(fleet)
            self.running.callback(stop_clients, loops)  # before the servers stop
            step.say(
                f"{len(loops)} application clients connected (plaintext, TLS 1.2, TLS 1.0) "
                "from 127.0.0.2–4"
            )
        return ports

    def import_accounts(self, aws: AwsCloud, aliyun: AliyunCloud, ports: dict[str, int]):
        path = self.dir / "accounts.toml"
        with self.steps.step(f"accounts: import_accounts {path}") as step:
            closed = hold_closed_port(None if self.args.free_ports else DEFAULT_CLOSED_PORT)
            self.running.callback(closed.close)
            wiring = Wiring(
                moto_url=aws.url,
                aliyun_endpoint=aliyun.endpoint,
                bundles=self.bundles,
                ports=ports,
                closed_port=closed.getsockname()[1],
            )
            path.write_text(render_accounts(wiring))
            step.say("(demo/accounts.toml with this run's ports and paths)")
            step.say(product.manage(self.env, "import_accounts", str(path)))

    def sync(self) -> None:
        with self.steps.step("inventory: sync_inventory") as step:
            step.say(product.manage(self.env, "sync_inventory"))

    def check(self) -> None:
        with self.steps.step("checks: check_tls --all") as step:
            step.say(product.manage(self.env, "check_tls", "--all"))

    def admin(self) -> bool:
        """True when the admin user was created (and its password printed) now."""
        with self.steps.step(f"admin user '{product.ADMIN_USERNAME}'") as step:
            if product.admin_exists(self.env):
                step.say(
                    "exists (its password was printed when it was created; reset it with "
                    f"`TLSPOSTURE_DATA_DIR={self.dir} DEBUG=1 .venv/bin/python manage.py "
                    f"changepassword {product.ADMIN_USERNAME}`)"
                )
                return False
            password = product.create_admin(self.env)
            step.say(f"created admin user '{product.ADMIN_USERNAME}' with password: {password}")
            step.say("(shown once; it is not stored anywhere in clear text)")
            return True

    def report(self) -> dict:
        with self.steps.step("report: posture_report --format json") as step:
            text = product.manage(self.env, "posture_report", "--format", "json")
            report = json.loads(text)
            if self.args.report_json:
                Path(self.args.report_json).write_text(text)
            for line in summary.table(report):
                step.say(line)
            step.say(f"grades — {summary.count_line(report)} (no catalogue finding caps at D)")
        return report

    def serve(self, admin_created: bool, report: dict, aws, aliyun) -> int:
        password = "printed above" if admin_created else "set on the first run"
        print(
            "\ntlsposture demo\n"
            f"  dashboard  http://127.0.0.1:{self.args.port}/ — user '{product.ADMIN_USERNAME}',"
            f" password {password}\n"
            f"  grades     {summary.count_line(report)} (no catalogue finding caps at D)\n"
            f"  world      {len(SERVERS)} database servers (MariaDB and MySQL 8 personas), "
            f"moto on {aws.url}, "
            f"Alibaba API on http://{aliyun.endpoint}\n"
            f"  data       {self.dir}\n"
            "Ctrl-C stops everything.\n",
            flush=True,
        )
        dashboard = product.serve(self.env, self.args.port)
        self.running.callback(product.stop_process, dashboard)
        return dashboard.wait()

    def _moved(self, step, what: str, moved_from: int | None, where: str) -> None:
        if moved_from:
            step.say(f"port {moved_from} is taken: {what} listens on {where} instead")
