"""The Alibaba side of the demo world, as the data of fleet/aliyun_api.py's local API.

Each ApsaraDB instance of the world becomes a DescribeDBInstances item with its attribute,
SSL and parameter answers. The SSL answer's expiry is the one of the certificate its demo
server presents, so the API and the wire agree, and the running parameters are the ones
the server really runs.
"""

from __future__ import annotations

from datetime import datetime

from common.timeutil import iso_z
from demo.world import ALIYUN, Database, databases_in, server

ZONES = {"cn-hangzhou": ["cn-hangzhou-h", "cn-hangzhou-i"], "cn-shanghai": ["cn-shanghai-b"]}
# Forced SSL needs a minor version from 20241130 on (docs/reference/alibaba-rds.md "Behaviour").
KERNEL_VERSION = "rds_20250630"
DOMAIN = "mysql.rds.aliyuncs.com"


def connection_string(db: Database) -> str:
    return f"{db.identifier}.{DOMAIN}"


def endpoints() -> dict[tuple[str, str], tuple[str, ...]]:
    return {(ALIYUN.name, db.identifier): (connection_string(db),) for db in databases_in(ALIYUN)}


def _ssl(db: Database, not_after: datetime | None) -> dict:
    if db.ssl == "off":
        return {"SSLEnabled": "No"}
    answer = {
        "SSLEnabled": "Yes",
        "ForceEncryption": "1" if db.ssl == "forced" else "0",
        "CAType": "aliyun",
        "ConnectionString": connection_string(db),
        "SSLExpireTime": iso_z(not_after),
        "RequireUpdate": "Yes" if db.require_update else "No",
    }
    if db.require_update:
        answer["RequireUpdateReason"] = "The cloud certificate expires soon and must be renewed."
    return answer


def _running_parameters(db: Database) -> dict[str, str]:
    runs_on = server(db.server)
    values = {"require_secure_transport": "ON" if runs_on.require_secure_transport else "OFF"}
    if runs_on.tls_version:
        values["tls_version"] = runs_on.tls_version
    if runs_on.ssl_cipher:
        values["ssl_cipher"] = runs_on.ssl_cipher
    return values


def _instance(db: Database, not_after: datetime | None) -> dict:
    return {
        "DBInstanceId": db.identifier,
        "DBInstanceDescription": db.description or db.identifier,
        "Engine": db.engine,
        "EngineVersion": db.engine_version,
        "ZoneId": ZONES[db.region][0],
        "ConnectionString": connection_string(db),
        "attribute": {"Port": "3306", "CurrentKernelVersion": KERNEL_VERSION},
        "ssl": _ssl(db, not_after),
        "parameters": {"running": _running_parameters(db)},
    }


def aliyun_world(not_after: dict[str, datetime], access_key_id: str, secret: str) -> dict:
    """The API's world. `not_after`: server name → the end of the certificate it presents."""
    regions: dict[str, dict] = {}
    for db in databases_in(ALIYUN):
        region = regions.setdefault(db.region, {"zones": ZONES[db.region], "instances": []})
        region["instances"].append(_instance(db, not_after.get(db.server)))
    return {"access_keys": {access_key_id: {"secret": secret}}, "regions": regions}
