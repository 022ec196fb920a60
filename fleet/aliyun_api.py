"""A local stand-in for the Alibaba Cloud RDS API (2014-08-15), for tests and the demo.

The real `alibabacloud-rds20140815` SDK is pointed at it with
`Config(endpoint="127.0.0.1:PORT", protocol="http")`. It routes by the `x-acs-action` header
(falling back to an `Action` query parameter, as legacy RPC signing sends it), insists on the
headers the SDK sends (`x-acs-version`, `x-acs-date`, `x-acs-signature-nonce`,
`x-acs-content-sha256`, `Authorization`) and, when the world lists `access_keys`, verifies
the ACS3-HMAC-SHA256 signature and the STS token — so a broken client fails here as it would
against Alibaba. Answers come from a world (fleet/aliyun_world.py documents the data file).

Error injection — a list of rules, in the world's "errors" or through `inject()`; the first
rule that matches a request and has tries left applies:

    {"action": "DescribeDBInstanceSSL",  # required; "*" matches every action
     "instance": "rm-x",                 # only requests for this DBInstanceId
     "region": "cn-hangzhou",            # only this region (RegionId, or the instance's region)
     "status": 400, "code": "Throttling.User", "message": "Request was denied ...",
     "retry_after_ms": 200,              # header x-acs-retry-after (milliseconds)
     "times": 2,                         # the first N matching requests only, then normal
     "delay": 1.5,                       # seconds to wait before answering
     "hang": true,                       # never answer (until the server stops)
     "body": "{not json"}                # this text verbatim, with `status` (default 200)

A rule with only `delay` answers normally after the wait. Standalone, loopback only:

    python -m fleet.aliyun_api --data world.json --port 9000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from fleet.aliyun_signature import (
    expected_signature,
    parse_authorization,
    signature_matches,
)
from fleet.aliyun_world import ACTIONS, API_VERSION, ApiError, World, request_id

LOOPBACK = "127.0.0.1"
_SDK_HEADERS = ("x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256")


@dataclass
class Injection:
    """One error-injection rule and how often it has fired."""

    action: str
    instance: str = ""
    region: str = ""
    status: int | None = None
    code: str = ""
    message: str = ""
    retry_after_ms: int | None = None
    times: int | None = None
    delay: float = 0.0
    hang: bool = False
    body: str | None = None
    fired: int = 0

    def matches(self, action: str, instance: str, region: str) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        return (
            self.action in ("*", action)
            and (not self.instance or self.instance == instance)
            and (not self.region or self.region == region)
        )


@dataclass(frozen=True)
class RecordedRequest:
    """What a test may assert about a request; never the signature or the token itself."""

    action: str
    params: dict
    region: str
    instance: str
    status: int
    injected: bool
    security_token: bool = False
    headers: dict = field(default_factory=dict)


class AliyunApiServer:
    """The API on a free loopback port, in a background thread: start(), stop(), or `with`."""

    def __init__(self, world: dict | None = None, *, port: int = 0):
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._world = World(world)
        self._injections = [Injection(**rule) for rule in self._world.error_rules]
        self.requests: list[RecordedRequest] = []
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- control -------------------------------------------------------------------------

    def start(self) -> AliyunApiServer:
        handler = type("Handler", (_Handler,), {"api": self})
        self._httpd = ThreadingHTTPServer((LOOPBACK, self._port), handler)
        self._httpd.daemon_threads = True
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="aliyun-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hung and delayed answers
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> AliyunApiServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not running")
        return self._httpd.server_address[1]

    @property
    def endpoint(self) -> str:
        """What `Config.endpoint` (and CloudAccount.endpoint) takes: host:port, no scheme."""
        return f"{LOOPBACK}:{self.port}"

    def load(self, world: dict) -> None:
        """Serve another world from the next request on; its "errors" replace the rules."""
        new = World(world)
        with self._lock:
            self._world = new
            self._injections = [Injection(**rule) for rule in new.error_rules]

    def inject(self, action: str, **rule) -> Injection:
        injection = Injection(action=action, **rule)
        with self._lock:
            self._injections.append(injection)
        return injection

    def clear_injections(self) -> None:
        with self._lock:
            self._injections = []

    def calls(self, action: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if action is None or r.action == action]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests = []

    # ---- request handling (called on the server's threads) -------------------------------

    def _take_injection(self, action: str, instance: str, region: str) -> Injection | None:
        with self._lock:
            for injection in self._injections:
                if injection.matches(action, instance, region):
                    injection.fired += 1
                    return injection
        return None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def hang(self) -> None:
        self._stopping.wait()


class _Handler(BaseHTTPRequestHandler):
    api: AliyunApiServer
    protocol_version = "HTTP/1.1"  # the SDK keeps connections alive
    # Headers and body go out in two writes; with Nagle on, each answer waits ~40 ms for
    # the client's delayed ACK.
    disable_nagle_algorithm = True

    def do_POST(self):
        self._answer()

    def do_GET(self):
        self._answer()

    def log_message(self, format, *args):  # quiet: tests read `requests` instead
        return

    def _answer(self) -> None:
        url = urlsplit(self.path)
        query = parse_qsl(url.query, keep_blank_values=True)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        params = dict(query)
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        action = self.headers.get("x-acs-action") or params.get("Action", "")
        with self.api._lock:
            world = self.api._world
        instance = params.get("DBInstanceId", "")
        region = params.get("RegionId") or world.region_of(instance)
        record = {
            "action": action,
            "params": _safe_params(params),
            "region": region,
            "instance": instance,
            "security_token": bool(
                self.headers.get("x-acs-security-token") or params.get("SecurityToken")
            ),
            "headers": {
                name: self.headers.get(name, "")
                for name in ("x-acs-action", "x-acs-version", "user-agent", "host")
            },
        }
        # Recorded just before the answer goes out, so a client that has its answer can
        # always find its request in `requests`.
        self._pending = (record, False)
        try:
            self._check_request(action, params, query, body, url.path, world)
        except ApiError as exc:
            self._send_error(exc)
            return
        injection = self.api._take_injection(action, instance, region)
        if injection is not None:
            self._pending = (record, True)
            if self._inject(injection) is not None:
                return
        try:
            payload = ACTIONS[action](world, params)
        except ApiError as exc:
            self._send_error(exc)
            return
        self._send(200, json.dumps(payload).encode())

    def _check_request(self, action, params, query, body, path, world: World) -> None:
        if not action:
            raise ApiError(
                400,
                "MissingParameter",
                'The input parameter "Action" that is mandatory for processing this request'
                " is not supplied.",
            )
        if action not in ACTIONS:
            raise ApiError(404, "InvalidAction.NotFound", f"Specified api {action} is not found.")
        version = self.headers.get("x-acs-version") or params.get("Version", "")
        if version != API_VERSION:
            raise ApiError(
                400, "InvalidVersion", f"Specified parameter Version {version!r} is not valid."
            )
        if self.headers.get("x-acs-action"):
            self._check_v3_signature(query, body, path, world)
        else:
            self._check_legacy_signature(params, world)

    def _check_v3_signature(self, query, body, path, world: World) -> None:
        missing = [name for name in _SDK_HEADERS if not self.headers.get(name)]
        if missing:
            raise ApiError(400, "MissingParameter", f"Header {missing[0]} is mandatory.")
        if self.headers["x-acs-content-sha256"] != hashlib.sha256(body).hexdigest():
            raise ApiError(400, "InvalidParameter", "x-acs-content-sha256 does not match the body.")
        auth = parse_authorization(self.headers.get("Authorization", ""))
        if auth is None:
            raise ApiError(
                400, "IncompleteSignature", "The request signature is missing or malformed."
            )
        keys = world.access_keys
        if keys is None:
            return
        key = keys.get(auth.access_key_id)
        if key is None:
            raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        headers = {name.lower(): self.headers.get_all(name) for name in self.headers}
        expected = expected_signature(
            secret=key["secret"],
            method=self.command,
            path=path,
            query=query,
            headers=headers,
            signed_headers=auth.signed_headers,
        )
        if "host" not in auth.signed_headers or not signature_matches(expected, auth.signature):
            raise ApiError(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            )
        _check_token(key, self.headers.get("x-acs-security-token"))

    def _check_legacy_signature(self, params, world: World) -> None:
        # Legacy (v2) signatures are only checked for presence and a known key.
        if not params.get("Signature") or not params.get("AccessKeyId"):
            raise ApiError(400, "IncompleteSignature", "The request signature is missing.")
        keys = world.access_keys
        if keys is None:
            return
        key = keys.get(params["AccessKeyId"])
        if key is None:
            raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        _check_token(key, params.get("SecurityToken"))

    def _inject(self, injection: Injection) -> int | None:
        """Apply a rule; the HTTP status sent, or None when the normal answer should follow."""
        if injection.hang:
            self.api.hang()
            self._record_pending(0)  # only once released: it never got an answer
            return 0  # the client gave up long ago; nothing is sent
        if injection.delay:
            self.api.wait(injection.delay)
        if injection.body is not None:
            self._send(injection.status or 200, injection.body.encode())
            return injection.status or 200
        if injection.status is None:
            return None
        extra = {}
        if injection.retry_after_ms is not None:
            extra["x-acs-retry-after"] = str(injection.retry_after_ms)
        self._send_error(
            ApiError(injection.status, injection.code or "InjectedError", injection.message),
            extra,
        )
        return injection.status

    def _send_error(self, exc: ApiError, headers: dict | None = None) -> None:
        body = {
            "RequestId": request_id(),
            "HostId": "rds.aliyuncs.com",
            "Code": exc.code,
            "Message": exc.message,
            "Recommend": "https://api.aliyun.com/troubleshoot",
        }
        self._send(exc.status, json.dumps(body).encode(), headers)

    def _record_pending(self, status: int) -> None:
        pending, self._pending = getattr(self, "_pending", None), None
        if pending is not None:
            record, injected = pending
            self.api._record(RecordedRequest(status=status, injected=injected, **record))

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self._record_pending(status)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left


def _check_token(key: dict, given: str | None) -> None:
    wanted = key.get("security_token")
    if (wanted or None) != (given or None):
        raise ApiError(
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey.",
        )


def _safe_params(params: dict) -> dict:
    hidden = {"Signature", "SecurityToken", "AccessKeyId"}
    return {k: v for k, v in params.items() if k not in hidden}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fleet.aliyun_api",
        description="Serve a local Alibaba Cloud RDS API (loopback only) from a world file.",
    )
    parser.add_argument("--data", required=True, help="world JSON file (fleet/aliyun_world.py)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    args = parser.parse_args(argv)
    try:
        with open(args.data, encoding="utf-8") as handle:
            world = json.load(handle)
    except (OSError, ValueError) as exc:
        parser.error(f"cannot read {args.data}: {exc}")
    server = AliyunApiServer(world, port=args.port).start()
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    print(f"aliyun-api listening on http://{server.endpoint}", flush=True)
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
