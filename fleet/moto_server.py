"""A moto server with fleet.moto_rds loaded, on loopback, for the demo, benchmarks and tests.

    python -m fleet.moto_server --port 5000     # --port 0 picks a free port

The first line printed is the URL to use as an account's endpoint_url. Besides every moto
API (and moto's own POST /moto-api/reset), it answers

    POST /_tlsposture/<seeder>   body: a JSON object of keyword arguments

where <seeder> is one of fleet.moto_rds.SEEDERS (set_certificates, add_pending_maintenance_
action, set_server_certificate_expiry, create_db_instances, inject_fault, clear_faults); dates
are ISO-8601 text. `seed()` is the client side. Test infrastructure: no authentication, so it
only ever listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import sys
import threading
import urllib.parse

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from fleet import moto_rds

SEED_PREFIX = "/_tlsposture/"
HOST = "127.0.0.1"


class _SeedingApp:
    """moto's WSGI app, plus the seeding routes."""

    def __init__(self):
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/moto-api/reset":
            moto_rds.wait_for_delayed_answers()
        if not path.startswith(SEED_PREFIX):
            return self.moto(environ, start_response)
        return self._seed(Request(environ), path.removeprefix(SEED_PREFIX))(environ, start_response)

    def _seed(self, request: Request, name: str) -> Response:
        seeder = moto_rds.SEEDERS.get(name)
        if request.method != "POST" or seeder is None:
            return _json({"error": f"POST one of {sorted(moto_rds.SEEDERS)}"}, 404)
        try:
            kwargs = json.loads(request.get_data() or b"{}")
            return _json({"result": seeder(**kwargs)})
        except (TypeError, ValueError, KeyError) as exc:
            return _json({"error": f"{type(exc).__name__}: {exc}"}, 400)


def _json(value, status: int = 200) -> Response:
    return Response(json.dumps(value, default=str), status, mimetype="application/json")


class _QuietHandler(MotoRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class MotoServer:
    """The server in a thread of this process; `with MotoServer() as server: server.url`."""

    def __init__(self, port: int = 0, *, quiet: bool = True):
        moto_rds.install()
        handler = _QuietHandler if quiet else MotoRequestHandler
        self._server = make_server(
            HOST, port, _SeedingApp(), threaded=True, request_handler=handler
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_port}"

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def start(self) -> MotoServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def seed(url: str, seeder: str, **kwargs):
    """Call a seeder of the server at `url`; returns its result."""
    answer = _post(url, f"{SEED_PREFIX}{seeder}", json.dumps(kwargs, default=str).encode())
    return json.loads(answer)["result"]


def reset(url: str) -> None:
    """Empty every account and region of the server (moto's own reset)."""
    _post(url, "/moto-api/reset", b"")


def seed_random(url: str, value: int) -> None:
    """Seed moto's generator of ids (cluster and proxy endpoint names, resource ids), so the
    same calls build the same names on every run."""
    _post(url, f"/moto-api/seed?a={int(value)}", b"")


def _post(url: str, path: str, body: bytes) -> bytes:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or parts.hostname != HOST:
        raise ValueError(f"the test server listens on http://{HOST} only, not {url}")
    connection = http.client.HTTPConnection(HOST, parts.port, timeout=30)
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        answer = connection.getresponse()
        data = answer.read()
    finally:
        connection.close()
    if answer.status != 200:
        raise RuntimeError(f"POST {path}: HTTP {answer.status} {data.decode(errors='replace')}")
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=5000, help="0 picks a free port")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    server = MotoServer(args.port, quiet=not args.verbose)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(server.url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
