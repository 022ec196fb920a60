"""Leak tests: real listening servers on loopback that record every byte they receive, and
the one assertion that no secret is among them (raw, URL-encoded or base64)."""

from __future__ import annotations

import base64
import contextlib
import socket
import threading
from urllib.parse import quote


def secret_forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [
        raw,
        quote(secret, safe="").encode(),
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw),
    ]


def assert_no_secret(received: bytes, *secrets: str) -> None:
    for secret in secrets:
        assert secret, "an empty secret proves nothing"
        for form in secret_forms(secret):
            assert form not in received, f"a secret ({len(secret)} chars) reached the server"


class RecordingHTTPServer:
    """Answers every request with `status` and a small JSON body; keeps each raw request."""

    def __init__(self, status: int = 404, body: bytes = b'{"Code":"NotFound"}'):
        self.status, self.body = status, body
        self.requests: list[bytes] = []
        self._lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def received(self) -> bytes:
        with self._lock:
            return b"".join(self.requests)

    def __enter__(self) -> RecordingHTTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip() or 0)
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
            with self._lock:
                self.requests.append(head + b"\r\n\r\n" + body)
            conn.sendall(
                f"HTTP/1.1 {self.status} Answer\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n".encode()
                + self.body
            )
