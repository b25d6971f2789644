"""A real OpenID provider (the npm package oidc-provider, run with node) on 127.0.0.1.

`make test` and `.ci/run` install it into tests/oidc/node_modules (`npm ci`). Without node
or the package the tests skip saying why, and fail instead with CXGOV_REQUIRE_SERVICES=1.
"""

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import missing_service

HERE = Path(__file__).resolve().parent
CLIENT_ID = "cxgov-tests"
CLIENT_SECRET = "cxgov-tests-secret-not-for-production"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Provider:
    def __init__(self, issuer: str, accounts_file: Path):
        self.issuer = issuer
        self.accounts_file = accounts_file

    def set_accounts(self, accounts: dict) -> None:
        """Who can sign in and their claims, read by the provider at each sign-in."""
        self.accounts_file.write_text(json.dumps(accounts))

    def settings(self) -> dict:
        return {
            "OIDC_ENABLED": True,
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.issuer}/auth",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.issuer}/token",
            "OIDC_OP_USER_ENDPOINT": f"{self.issuer}/me",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.issuer}/jwks",
        }


@pytest.fixture(scope="session")
def oidc_provider(live_server, tmp_path_factory):
    node = shutil.which("node")
    if node is None:
        missing_service("node is not installed: the OpenID provider of the sign-in tests runs on it")
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        missing_service("oidc-provider is not installed: run `npm ci --prefix tests/oidc` (make test does)")
    accounts = tmp_path_factory.mktemp("oidc") / "accounts.json"
    accounts.write_text("{}")
    port = _free_port()
    env = {
        "PATH": str(Path(node).parent),
        "OIDC_PORT": str(port),
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_REDIRECT_URI": f"{live_server.url}/oidc/callback/",
        "OIDC_ACCOUNTS": str(accounts),
        "NODE_ENV": "test",
    }
    proc = subprocess.Popen(
        [node, str(HERE / "provider.mjs")], cwd=HERE, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the OpenID provider exited:\n" + proc.stdout.read().decode())
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("the OpenID provider did not answer within 30 s")
    try:
        yield Provider(issuer, accounts)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
