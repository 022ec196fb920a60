"""The local Alibaba RDS API: what it insists on, how it routes, how it runs on its own."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from alibabacloud_rds20140815 import models as rds
from alibabacloud_rds20140815.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException

from fleet.aliyun_api import AliyunApiServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "fleet" / "aliyun_world.example.json"
WORLD = {
    "regions": {
        "cn-hangzhou": {"zones": ["cn-hangzhou-h"], "instances": [{"DBInstanceId": "rm-a"}]},
        "cn-shanghai": {"zones": ["cn-shanghai-b"], "instances": [{"DBInstanceId": "rm-b"}]},
    }
}


@pytest.fixture(scope="module")
def api():
    with AliyunApiServer(WORLD) as server:
        yield server


def _client(endpoint: str, region="cn-hangzhou", ak="test-ak", sk="test-sk") -> Client:
    return Client(
        open_api_models.Config(
            access_key_id=ak,
            access_key_secret=sk,
            region_id=region,
            endpoint=endpoint,
            protocol="http",
            read_timeout=3000,
            connect_timeout=1000,
        )
    )


def _post(api, query: str, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://{api.endpoint}/?{query}", data=b"", headers=headers or {}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=3) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_requests_without_the_sdk_headers_are_refused(api):
    status, body = _post(api, "RegionId=cn-hangzhou", {"x-acs-action": "DescribeDBInstances"})
    assert (status, body["Code"]) == (400, "InvalidVersion")
    status, body = _post(
        api,
        "RegionId=cn-hangzhou",
        {"x-acs-action": "DescribeDBInstances", "x-acs-version": "2014-08-15"},
    )
    assert (status, body["Code"]) == (400, "MissingParameter")
    assert "x-acs-date" in body["Message"]
    status, body = _post(api, "", {"x-acs-action": "RunSql", "x-acs-version": "2014-08-15"})
    assert (status, body["Code"]) == (404, "InvalidAction.NotFound")
    status, body = _post(api, "")
    assert (status, body["Code"]) == (400, "MissingParameter")


def test_unsigned_request_is_refused(api):
    headers = {
        "x-acs-action": "DescribeRegions",
        "x-acs-version": "2014-08-15",
        "x-acs-date": "2026-11-23T08:00:00Z",
        "x-acs-signature-nonce": "n1",
        "x-acs-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    }
    status, body = _post(api, "", headers)
    assert (status, body["Code"]) == (400, "IncompleteSignature")
    assert body["RequestId"]


def test_routes_by_action_parameter_when_the_header_is_absent(api):
    status, body = _post(
        api, "Action=DescribeRegions&Version=2014-08-15&AccessKeyId=test-ak&Signature=abc"
    )
    assert status == 200
    assert [r["RegionId"] for r in body["Regions"]["RDSRegion"]] == ["cn-hangzhou", "cn-shanghai"]
    assert api.calls("DescribeRegions")[-1].params == {
        "Action": "DescribeRegions",
        "Version": "2014-08-15",
    }


def test_injections_match_by_region_count_and_delay(api):
    api.clear_requests()
    api.inject("DescribeDBInstances", region="cn-shanghai", status=503, code="ServiceUnavailable")
    delayed = api.inject("DescribeDBInstances", region="cn-hangzhou", delay=0.3, times=1)
    hangzhou = _client(api.endpoint)
    request = rds.DescribeDBInstancesRequest(region_id="cn-hangzhou", page_size=30)
    started = time.monotonic()
    first = hangzhou.describe_dbinstances(request).body
    assert time.monotonic() - started >= 0.3
    assert [i.dbinstance_id for i in first.items.dbinstance] == ["rm-a"]
    hangzhou.describe_dbinstances(request)
    assert delayed.fired == 1  # the delay was for the first request only
    with pytest.raises(ServerException, match="ServiceUnavailable"):
        _client(api.endpoint, "cn-shanghai").describe_dbinstances(
            rds.DescribeDBInstancesRequest(region_id="cn-shanghai")
        )
    api.clear_injections()
    assert [(r.region, r.status, r.injected) for r in api.requests] == [
        ("cn-hangzhou", 200, True),
        ("cn-hangzhou", 200, False),
        ("cn-shanghai", 503, True),
    ]


def test_page_size_above_100_is_refused_like_the_real_api(api):
    with pytest.raises(ClientException) as caught:
        _client(api.endpoint).describe_dbinstances(
            rds.DescribeDBInstancesRequest(region_id="cn-hangzhou", page_size=101)
        )
    assert caught.value.code == "InvalidPageSize.Malformed"


def test_runs_standalone_from_a_data_file():
    process = subprocess.Popen(
        [sys.executable, "-m", "fleet.aliyun_api", "--data", str(EXAMPLE), "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("aliyun-api listening on http://127.0.0.1:")
        endpoint = line.strip().rsplit("/", 1)[1]
        client = _client(endpoint, ak="demo-ak", sk="demo-sk-not-a-secret")
        body = client.describe_dbinstance_ssl(
            rds.DescribeDBInstanceSSLRequest(dbinstance_id="rm-bp1orders")
        ).body
        assert (body.sslenabled, body.force_encryption) == ("Yes", "1")
        with pytest.raises(ClientException) as caught:
            _client(endpoint, ak="demo-ak", sk="wrong").describe_regions(
                rds.DescribeRegionsRequest()
            )
        assert caught.value.code == "SignatureDoesNotMatch"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        process.stdout.close()
