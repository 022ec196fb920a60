"""The demo's two clouds, served on loopback from threads of the demo process (so they end
with it): moto with fleet/moto_rds.py for AWS, fleet/aliyun_api.py for Alibaba Cloud.

Each prefers a fixed port, so a second run finds the accounts where the first left them,
and falls back to a free port when that one is taken.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from demo.aliyun_seed import aliyun_world
from demo.aws_seed import base_credentials, record_server_certificates, seed_aws
from demo.world import ALIYUN_ACCESS_KEY_ID_ENV, ALIYUN_ACCESS_KEY_SECRET_ENV
from fleet.aliyun_api import AliyunApiServer
from fleet.moto_server import MotoServer

MOTO_PORT = 5000
ALIYUN_PORT = 9000


@dataclass
class Started:
    server: object
    moved_from: int | None  # the preferred port, when it was taken


def _start(factory, preferred: int) -> Started:
    """factory(port) starts a server; 0 asks for a free port."""
    try:
        return Started(factory(preferred), None)
    except OSError:
        if not preferred:
            raise
        return Started(factory(0), preferred)


class AwsCloud:
    """moto with two accounts and three regions of RDS."""

    def __init__(self, preferred_port: int = MOTO_PORT):
        started = _start(lambda port: MotoServer(port).start(), preferred_port)
        self.server: MotoServer = started.server
        self.moved_from = started.moved_from
        self.credentials = base_credentials()
        self.endpoints: dict[tuple[str, str], tuple[str, ...]] = {}

    @property
    def url(self) -> str:
        return self.server.url

    def seed(self) -> None:
        self.endpoints = seed_aws(self.url, self.credentials)

    def record_server_certificates(self, not_after: dict[str, datetime]) -> None:
        record_server_certificates(self.url, not_after)

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.credentials["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": self.credentials["aws_secret_access_key"],
        }

    def stop(self) -> None:
        self.server.stop()


class AliyunCloud:
    """The local Alibaba RDS API, signing keys checked, with the world's ApsaraDB instances."""

    def __init__(self, not_after: dict[str, datetime], preferred_port: int = ALIYUN_PORT):
        self.access_key_id = "demo-" + secrets.token_hex(6)
        self._secret = secrets.token_urlsafe(24)
        world = aliyun_world(not_after, self.access_key_id, self._secret)
        started = _start(lambda port: AliyunApiServer(world, port=port).start(), preferred_port)
        self.server: AliyunApiServer = started.server
        self.moved_from = started.moved_from

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    def environment(self) -> dict[str, str]:
        return {
            ALIYUN_ACCESS_KEY_ID_ENV: self.access_key_id,
            ALIYUN_ACCESS_KEY_SECRET_ENV: self._secret,
        }

    def stop(self) -> None:
        self.server.stop()
