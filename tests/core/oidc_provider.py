"""A real OpenID Connect provider for the tests: node's `oidc-provider` from the npm
registry, installed once into var/test-cache/ (outside git) and started on loopback over
HTTPS with a certificate minted here. No registry, no test: the suite fails and says so,
it does not skip."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from fleet.certs import make_ca, make_server_cert
from fleet.mariadb import free_port

ROOT = Path(__file__).resolve().parents[2]
VERSION = "9.13.3"
CACHE = ROOT / "var" / "test-cache" / f"oidc-provider-{VERSION}"
SCRIPT = Path(__file__).with_name("oidc") / "provider.mjs"


def installed_provider() -> Path:
    """The directory holding node_modules/oidc-provider, installing it when missing."""
    if (CACHE / "node_modules" / "oidc-provider" / "package.json").exists():
        return CACHE
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: the single sign-on tests need node and npm")
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="oidc-provider-", dir=CACHE.parent))
    (staging / "package.json").write_text('{"name": "tlsposture-test-oidc", "private": true}')
    package = f"oidc-provider@{VERSION}"
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", package],
        cwd=staging, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.fail(
            f"could not install oidc-provider@{VERSION} from the npm registry "
            f"(npm exit {done.returncode}); the single sign-on tests need it:\n"
            + (done.stderr or done.stdout)[-2000:]
        )
    try:
        staging.rename(CACHE)
    except OSError:  # another run installed it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return CACHE


@dataclass(frozen=True)
class RunningProvider:
    issuer: str
    ca_bundle: Path
    client_id: str
    client_secret: str


def start_provider(directory: Path, *, redirect_uri: str, users: dict, client_secret: str):
    """Start the provider; returns (RunningProvider, process). The caller stops it."""
    home = installed_provider()
    ca = make_ca("tlsposture test OIDC CA")
    cert_path, key_path = make_server_cert(["127.0.0.1"], issuer=ca).write(directory, "oidc")
    ca_path = ca.write(directory / "oidc-ca.pem")
    script = home / "provider.mjs"  # beside node_modules, so `import 'oidc-provider'` resolves
    shutil.copyfile(SCRIPT, script)
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(directory)),
        "NODE_ENV": "development",
        "OIDC_PORT": str(port),
        "OIDC_CERT": str(cert_path),
        "OIDC_KEY": str(key_path),
        "OIDC_CLIENT_ID": "tlsposture",
        "OIDC_CLIENT_SECRET": client_secret,
        "OIDC_REDIRECT_URI": redirect_uri,
        "OIDC_USERS": json.dumps(users),
    }
    if "LD_PRELOAD" in os.environ:  # make test-future: the provider keeps the run's clock
        env.update({k: v for k, v in os.environ.items() if k.startswith(("FAKETIME", "LD_"))})
    process = subprocess.Popen(
        ["node", str(script)],
        cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = process.stdout.readline()
    if not line.startswith("listening "):
        process.kill()
        pytest.fail(f"the OIDC provider did not start: {line}{process.stderr.read()[-2000:]}")
    issuer = line.split(" ", 1)[1].strip()
    return RunningProvider(issuer, ca_path, "tlsposture", client_secret), process
