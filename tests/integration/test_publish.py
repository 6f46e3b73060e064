"""Publish to a real package index on 127.0.0.1 and install from it the way users do.

pypiserver runs with an htpasswd-protected upload and without fallback to pypi.org; the
runtime dependencies are mirrored into it first (from the wheelhouse `make install` fills),
as an internal index mirrors PyPI. Installing uses `--index-url`, never `--extra-index-url`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = ROOT / ".cache" / "wheelhouse"
VENV_BIN = Path(sys.executable).parent
USER = "publisher"
PASSWORD = "correct horse battery staple"

USER_SCRIPT = """
from decimal import Decimal

import httpx
import trustly
from trustly.models import CaptureRequest, Transaction, TransactionStatus


def handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"transactionId": "1", "transactionType": "3", "status": "2", "createdAt": 1})


def capture(client: trustly.TrustlyClient, transaction_id: str) -> Transaction:
    body = CaptureRequest(merchant_reference="order-9", amount=Decimal("10.00"), split_token="t")
    return client.transactions.capture(transaction_id, body=body)


with trustly.TrustlyClient(
    base_url="http://127.0.0.1:1/api/v1", access_id="id", access_key="key", transport=httpx.MockTransport(handler)
) as client:
    result = capture(client, "1")
    status: TransactionStatus = result.status
    assert status is TransactionStatus.AUTHORIZED
    print("captured", result.transaction_id, status.name)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env() -> dict[str, str]:
    # The machine's pip configuration must not add other indexes or find-links.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "TWINE_", "INDEX_URL"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from passlib.apache import HtpasswdFile

    if not list(WHEELHOUSE.glob("*.whl")):
        pytest.fail("the wheelhouse is empty: run `make install`")
    base = tmp_path_factory.mktemp("index")
    packages = base / "packages"
    packages.mkdir()
    for wheel in WHEELHOUSE.glob("*.whl"):
        shutil.copy(wheel, packages)
    htpasswd = HtpasswdFile(str(base / "htpasswd"), new=True)
    htpasswd.set_password(USER, PASSWORD)
    htpasswd.save()
    port = _free_port()
    log = (base / "server.log").open("w")
    server = subprocess.Popen(
        [
            str(VENV_BIN / "pypi-server"),
            "run",
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-P",
            str(base / "htpasswd"),
            "-a",
            "update",
            "--disable-fallback",
            str(packages),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/simple/", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("pypiserver did not start: " + (base / "server.log").read_text())
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _make_publish(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "publish"], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_publish_refuses_without_index_or_credentials() -> None:
    env = _clean_env()
    done = _make_publish(env)
    assert done.returncode != 0 and "INDEX_URL" in done.stderr
    done = _make_publish({**env, "INDEX_URL": "http://127.0.0.1:9/"})
    assert done.returncode != 0 and "TWINE_USERNAME" in done.stderr


def test_publish_with_a_wrong_password_fails(index: str) -> None:
    env = {**_clean_env(), "INDEX_URL": f"{index}/", "TWINE_USERNAME": USER, "TWINE_PASSWORD": "wrong"}
    done = _make_publish(env)
    assert done.returncode != 0, done.stdout
    assert PASSWORD not in done.stdout + done.stderr


def test_publish_install_import_and_typecheck(index: str, tmp_path: Path) -> None:
    env = {**_clean_env(), "INDEX_URL": f"{index}/", "TWINE_USERNAME": USER, "TWINE_PASSWORD": PASSWORD}
    done = _make_publish(env)
    assert done.returncode == 0, done.stdout + done.stderr
    with urllib.request.urlopen(f"{index}/simple/trustly-api-client/", timeout=5) as page:
        listing = page.read().decode()
    assert ".whl" in listing and ".tar.gz" in listing

    venv = tmp_path / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", str(venv)], check=True)  # type: ignore[attr-defined]
    python = venv / "bin" / "python"
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--isolated",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--index-url",
            f"{index}/simple/",
            "trustly-api-client",
        ],
        env=_clean_env(),
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    shown = subprocess.run(
        [str(python), "-m", "pip", "show", "-f", "trustly-api-client"], capture_output=True, text=True
    )
    assert "trustly/py.typed" in shown.stdout and "trustly_api_client/py.typed" in shown.stdout

    script = tmp_path / "user_script.py"
    script.write_text(USER_SCRIPT)
    run = subprocess.run([str(python), str(script)], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0 and "captured 1 AUTHORIZED" in run.stdout, run.stderr
    checked = subprocess.run(
        [
            str(VENV_BIN / "mypy"),
            "--strict",
            "--no-incremental",
            "--config-file",
            os.devnull,
            "--python-executable",
            str(python),
            str(script),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
