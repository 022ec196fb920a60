"""The world a local Alibaba Cloud RDS API serves, and the JSON shapes it answers with.

A world is plain JSON (a data file, or a dict built by a test):

    {
      "access_keys": {"test-ak": {"secret": "test-sk", "security_token": "optional"}},
      "regions": {
        "cn-hangzhou": {
          "zones": ["cn-hangzhou-h", "cn-hangzhou-i"],
          "instances": [
            {
              "DBInstanceId": "rm-orders", "EngineVersion": "8.0", "DBInstanceType": "Primary",
              "ConnectionString": "rm-orders.mysql.rds.aliyuncs.com", ...,
              "attribute": {"Port": "3306", "CurrentKernelVersion": "rds_20241130", ...},
              "ssl": {"SSLEnabled": "Yes", "ForceEncryption": "1", "SSLExpireTime": "...", ...},
              "parameters": {"running": {"tls_version": "TLSv1.2,TLSv1.3"},
                             "config": {"tls_version": "TLSv1.2"}}
            }
          ]
        }
      },
      "errors": [ ...error-injection rules, see fleet/aliyun_api.py... ]
    }

An instance's top-level keys are its DescribeDBInstances item (wire keys); `attribute` adds
to or overrides them for DescribeDBInstanceAttribute; `ssl` is the DescribeDBInstanceSSL
body as is (omitted: SSL off); `parameters` maps names to values, expanded into
RunningParameters / ConfigParameters (config defaults to running). `access_keys` omitted:
any well-formed signature is accepted. Nothing here is used in production.
"""

from __future__ import annotations

import copy
import uuid

API_VERSION = "2014-08-15"
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 30
_INSTANCE_SECTIONS = ("attribute", "ssl", "parameters")
_LIST_DEFAULTS = {
    "Engine": "MySQL",
    "EngineVersion": "8.0",
    "DBInstanceType": "Primary",
    "DBInstanceStatus": "Running",
    "DBInstanceNetType": "Intranet",
    "InstanceNetworkType": "VPC",
    "Category": "HighAvailability",
    "PayType": "Postpaid",
}


class ApiError(Exception):
    """An answer in Alibaba's error shape: HTTP status, Code and Message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


def request_id() -> str:
    return str(uuid.uuid4()).upper()


class World:
    """Read-only view of one world dict; the server swaps whole worlds, never edits one."""

    def __init__(self, data: dict | None = None):
        self.data = copy.deepcopy(data or {})
        self.regions: dict[str, dict] = self.data.get("regions", {})
        self._by_id: dict[str, tuple[str, dict]] = {}
        for region, body in self.regions.items():
            for instance in body.get("instances", []):
                self._by_id[instance["DBInstanceId"]] = (region, instance)

    @property
    def access_keys(self) -> dict[str, dict] | None:
        return self.data.get("access_keys")

    @property
    def error_rules(self) -> list[dict]:
        return list(self.data.get("errors", []))

    def region_of(self, instance_id: str) -> str:
        found = self._by_id.get(instance_id)
        return found[0] if found else ""

    def _instance(self, instance_id: str) -> dict:
        found = self._by_id.get(instance_id or "")
        if found is None:
            raise ApiError(
                404,
                "InvalidDBInstanceId.NotFound",
                "Specified instance does not exist or not support.",
            )
        return found[1]

    # ---- actions -------------------------------------------------------------------------

    def describe_regions(self, params: dict) -> dict:
        rows = []
        for region, body in self.regions.items():
            for zone in body.get("zones") or [f"{region}-a"]:
                rows.append(
                    {
                        "RegionId": region,
                        "ZoneId": zone,
                        "LocalName": region,
                        "ZoneName": zone,
                        "RegionEndpoint": "rds.aliyuncs.com",
                    }
                )
        return {"RequestId": request_id(), "Regions": {"RDSRegion": rows}}

    def describe_instances(self, params: dict) -> dict:
        region = params.get("RegionId", "")
        if not region:
            raise ApiError(400, "MissingRegionId", "RegionId is mandatory for this action.")
        if region not in self.regions:
            raise ApiError(400, "InvalidRegionId.Malformed", "Specified RegionId is not valid.")
        page_number = _positive_int(params.get("PageNumber", "1"), "PageNumber")
        page_size = _positive_int(params.get("PageSize", str(DEFAULT_PAGE_SIZE)), "PageSize")
        if page_size > MAX_PAGE_SIZE:
            raise ApiError(400, "InvalidPageSize.Malformed", "Specified PageSize is not valid.")
        engine = params.get("Engine", "").lower()
        listed = (self._list_item(i) for i in self.regions[region].get("instances", []))
        items = [item for item in listed if not engine or item["Engine"].lower() == engine]
        page = items[(page_number - 1) * page_size : page_number * page_size]
        return {
            "RequestId": request_id(),
            "Items": {"DBInstance": page},
            "TotalRecordCount": len(items),
            "PageNumber": page_number,
            "PageRecordCount": len(page),
        }

    def describe_attribute(self, params: dict) -> dict:
        instance = self._instance(params.get("DBInstanceId", ""))
        attribute = {"Port": "3306", **self._list_item(instance), **instance.get("attribute", {})}
        return {"RequestId": request_id(), "Items": {"DBInstanceAttribute": [attribute]}}

    def describe_ssl(self, params: dict) -> dict:
        instance = self._instance(params.get("DBInstanceId", ""))
        # A MySQL instance that never had SSL answers with little more than SSLEnabled=No.
        body = copy.deepcopy(instance.get("ssl", {"SSLEnabled": "No"}))
        return {"RequestId": request_id(), **body}

    def describe_parameters(self, params: dict) -> dict:
        instance = self._instance(params.get("DBInstanceId", ""))
        item = self._list_item(instance)
        values = instance.get("parameters", {})
        running = values.get("running", {})
        config = values.get("config", running)
        return {
            "RequestId": request_id(),
            "Engine": item["Engine"],
            "EngineVersion": item["EngineVersion"],
            "RunningParameters": {"DBInstanceParameter": _parameter_rows(running)},
            "ConfigParameters": {"DBInstanceParameter": _parameter_rows(config)},
        }

    def _list_item(self, instance: dict) -> dict:
        item = {
            **_LIST_DEFAULTS,
            **{k: v for k, v in instance.items() if k not in _INSTANCE_SECTIONS},
        }
        item.setdefault("DBInstanceDescription", item["DBInstanceId"])
        item.setdefault("ConnectionString", f"{item['DBInstanceId']}.mysql.rds.aliyuncs.com")
        if item["DBInstanceType"] == "Primary" and "ReadOnlyDBInstanceIds" not in item:
            replicas = [
                {"DBInstanceId": other_id}
                for other_id, (_, other) in self._by_id.items()
                if other.get("MasterInstanceId") == item["DBInstanceId"]
            ]
            item["ReadOnlyDBInstanceIds"] = {"ReadOnlyDBInstanceId": replicas}
        return item


ACTIONS = {
    "DescribeRegions": World.describe_regions,
    "DescribeDBInstances": World.describe_instances,
    "DescribeDBInstanceAttribute": World.describe_attribute,
    "DescribeDBInstanceSSL": World.describe_ssl,
    "DescribeParameters": World.describe_parameters,
}


def _positive_int(raw: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ApiError(400, f"Invalid{name}.Malformed", f"Specified {name} is not valid.")
    return value


def _parameter_rows(values: dict) -> list[dict]:
    return [
        {"ParameterName": name, "ParameterValue": value, "ParameterDescription": ""}
        for name, value in values.items()
    ]
