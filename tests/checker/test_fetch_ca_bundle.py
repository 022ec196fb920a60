"""`manage.py fetch_ca_bundle`: download, check, install atomically, list the CAs."""

from __future__ import annotations

import http.server
import io
import socket
import ssl
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from fleet.certs import make_ca, make_server_cert

ROOT = make_ca("Test RDS root CA", expires_in=timedelta(days=3650))
ISSUING = make_ca("Test RDS rsa2048 G1", parent=ROOT, expires_in=timedelta(days=400))
RETIRED = make_ca("Test RDS 2019 CA", expires_in=timedelta(days=-30))
BUNDLE = ROOT.cert_pem + ISSUING.cert_pem + RETIRED.cert_pem
LEAF = make_server_cert(["db.example.test"], issuer=ROOT).cert_pem

PAGES = {
    "/global/global-bundle.pem": BUNDLE,
    "/captive-portal.html": b"<html><body>Please log in</body></html>",
    "/leaf.pem": LEAF,
}


REQUESTED: list[str] = []  # every path the plain-HTTP site was asked for


class _Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        REQUESTED.append(self.path)
        body = PAGES.get(self.path)
        self.send_response(200 if body else 404)
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _fetch(*args):
    out = io.StringIO()
    call_command("fetch_ca_bundle", *args, stdout=out)
    return out.getvalue()


def test_installs_the_bundle_and_lists_its_cas(site, tmp_path):
    target = tmp_path / "ca" / "rds.pem"
    out = _fetch("aws", "--url", f"{site}/global/global-bundle.pem", "--output", str(target))
    assert target.read_bytes() == BUNDLE
    lines = out.splitlines()
    assert lines[0] == (
        f"installed {target} from {site}/global/global-bundle.pem: 3 CAs — the RDS CAs, for DB "
        "instances and Aurora clusters"
    )
    # Soonest expiry first; the expired one is marked.
    assert lines[1].endswith("   -31 days  Test RDS 2019 CA  EXPIRED")
    assert lines[2].endswith("days  Test RDS rsa2048 G1") and " 399 days " in lines[2]
    assert lines[3].endswith("days  Test RDS root CA")
    assert lines[4] == f"use it with TLSPOSTURE_CA_BUNDLE_AWS={target}"
    # And next to it the RDS Proxy bundle: the Amazon roots from the local trust store.
    proxy = tmp_path / "ca" / "aws-proxy-bundle.pem"
    assert lines[5].startswith(f"installed {proxy} from ")
    assert lines[5].endswith(
        ": 4 CAs — the Amazon Trust Services roots, for RDS Proxy endpoints (their ACM "
        "certificates chain to these, not to the RDS CAs)"
    )
    assert sorted(line.rsplit("  ", 1)[1] for line in lines[6:10]) == [
        f"Amazon Root CA {n}" for n in range(1, 5)
    ]
    assert lines[10] == f"use it with TLSPOSTURE_CA_BUNDLE_AWS_PROXY={proxy}"
    assert proxy.read_bytes().count(b"-----BEGIN CERTIFICATE-----") == 4


def test_default_output_is_under_the_data_directory(site, tmp_path):
    with override_settings(DATA_DIR=tmp_path):
        _fetch("aws", "--url", f"{site}/global/global-bundle.pem")
    assert (tmp_path / "ca" / "aws-bundle.pem").read_bytes() == BUNDLE
    assert (tmp_path / "ca" / "aws-proxy-bundle.pem").is_file()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/captive-portal.html", "the download holds no PEM certificate"),
        ("/leaf.pem", "CN=db.example.test in the download is not a CA certificate"),
        ("/missing.pem", "HTTP 404 Not Found"),
    ],
)
def test_a_bad_download_leaves_the_old_bundle_alone(site, tmp_path, path, reason):
    target = tmp_path / "rds.pem"
    target.write_bytes(b"old bundle")
    with pytest.raises(CommandError) as failed:
        _fetch("aws", "--url", f"{site}{path}", "--output", str(target))
    assert reason in str(failed.value)
    assert str(failed.value).endswith("; nothing was written")
    assert target.read_bytes() == b"old bundle"
    assert [p.name for p in tmp_path.iterdir()] == ["rds.pem"]


def test_closed_network_is_a_clear_error(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once closed
    with pytest.raises(CommandError) as failed:
        _fetch("aws", "--url", f"http://127.0.0.1:{port}/b.pem", "--output", str(tmp_path / "x"))
    assert "Connection refused; nothing was written" in str(failed.value)
    assert not (tmp_path / "x").exists()


def test_plain_http_is_refused_beyond_loopback(tmp_path):
    with pytest.raises(CommandError, match="only fetched over HTTPS"):
        _fetch("aws", "--url", "http://example.com/b.pem", "--output", str(tmp_path / "x"))


def test_aliyun_bundles_are_per_instance():
    with pytest.raises(CommandError, match="ApsaraDB issues its CA per instance"):
        _fetch("aliyun")


# -- exploit 4: an https download redirected to plain http ----------------------------------

HTTPS_CA = make_ca("Test HTTPS root", expires_in=timedelta(days=30))
HTTPS_CERT = make_server_cert(["localhost"], issuer=HTTPS_CA)


@pytest.fixture
def https_site(site, tmp_path, monkeypatch):
    """An HTTPS server on loopback (trusted through SSL_CERT_FILE) whose /moved answers a
    redirect to the plain-HTTP site, and /moved-https one to itself."""
    cert, key = HTTPS_CERT.write(tmp_path, "https")
    monkeypatch.setenv("SSL_CERT_FILE", str(HTTPS_CA.write(tmp_path / "https-ca.pem")))

    class Redirects(_Pages):
        def do_GET(self):
            port = self.server.server_address[1]
            target = {
                "/moved": f"{site}/global/global-bundle.pem",
                "/moved-https": f"https://localhost:{port}/global/global-bundle.pem",
            }.get(self.path)
            if target is None:
                body = PAGES.get(self.path, b"")
                self.send_response(200 if body else 404)
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirects)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://localhost:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_a_redirect_that_leaves_https_is_refused(https_site, site, tmp_path):
    target = tmp_path / "rds.pem"
    target.write_bytes(b"old bundle")
    REQUESTED.clear()
    with pytest.raises(CommandError) as refused:
        _fetch("aws", "--url", f"{https_site}/moved", "--output", str(target))
    assert str(refused.value) == (
        f"refusing the redirect from {https_site}/moved to {site}/global/global-bundle.pem: "
        "the redirect leaves HTTPS; nothing was written"
    )
    assert REQUESTED == []  # the plain-HTTP server was never asked
    assert target.read_bytes() == b"old bundle"


def test_a_redirect_within_https_is_followed(https_site, tmp_path):
    target = tmp_path / "rds.pem"
    out = _fetch("aws", "--url", f"{https_site}/moved-https", "--output", str(target))
    assert target.read_bytes() == BUNDLE
    assert out.startswith(f"installed {target} from {https_site}/moved-https: 3 CAs")
