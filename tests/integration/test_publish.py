"""Publish to a real package index on 127.0.0.1 and install from it the way users do.

pypiserver runs with an htpasswd-protected upload and without fallback to pypi.org. After
`make publish`, the wheelhouse `make build` wrote to dist/wheelhouse is copied into it, as the
README tells an index's keeper to mirror it; installing uses `--index-url` with `--isolated`,
never `--extra-index-url`. The installed wheel's `trustly` command and pytest plugin are run from
the fresh environment, first without the extras, then with `[testing,cli]`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = ROOT / "dist" / "wheelhouse"
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
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from passlib.apache import HtpasswdFile

    base = tmp_path_factory.mktemp("index")
    packages = base / "packages"
    packages.mkdir()
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
        yield url, packages
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


def test_publish_with_a_wrong_password_fails(index: tuple[str, Path]) -> None:
    env = {**_clean_env(), "INDEX_URL": f"{index[0]}/", "TWINE_USERNAME": USER, "TWINE_PASSWORD": "wrong"}
    done = _make_publish(env)
    assert done.returncode != 0, done.stdout
    assert PASSWORD not in done.stdout + done.stderr


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements-dev.txt").read_text().splitlines():
        name, sep, version = line.partition("==")
        if sep and not line.startswith("#"):
            pins[_normal(name)] = version.strip()
    return pins


def _normal(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def _check_wheelhouse() -> None:
    """dist/wheelhouse holds a pinned wheel of every dependency of the package and its extras."""
    wheels = {}
    for wheel in WHEELHOUSE.glob("*.whl"):
        name, version = wheel.name.split("-")[:2]
        wheels[_normal(name)] = version
    pins = _pins()
    assert wheels and all(pins.get(name) == version for name, version in wheels.items()), (wheels, pins)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        needed.extend(extra)
    for requirement in needed:
        name = _normal(requirement.split(">")[0].split("<")[0].split("=")[0].split("[")[0])
        assert name in wheels, f"the wheelhouse lacks {name}"


def _pip_install(python: Path, index: str, *requirements: str) -> None:
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
            *requirements,
        ],
        env=_clean_env(),
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr


def test_publish_install_import_and_typecheck(index: tuple[str, Path], tmp_path: Path) -> None:
    url, packages = index
    env = {**_clean_env(), "INDEX_URL": f"{url}/", "TWINE_USERNAME": USER, "TWINE_PASSWORD": PASSWORD}
    done = _make_publish(env)
    assert done.returncode == 0, done.stdout + done.stderr
    with urllib.request.urlopen(f"{url}/simple/trustly-api-client/", timeout=5) as page:
        listing = page.read().decode()
    assert ".whl" in listing and ".tar.gz" in listing
    # The index keeper's step from the README: mirror the wheelhouse into the index.
    _check_wheelhouse()
    for wheel in WHEELHOUSE.glob("*.whl"):
        shutil.copy(wheel, packages)

    venv = tmp_path / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", str(venv)], check=True)  # type: ignore[attr-defined]
    python = venv / "bin" / "python"
    _pip_install(python, url, "trustly-api-client")
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

    _without_extras(python, url, tmp_path)
    _pip_install(python, url, "trustly-api-client[testing,cli]")
    _with_extras(venv / "bin", tmp_path)


PLAIN_TEST = """
def test_nothing_to_do_with_trustly():
    assert sorted([3, 1, 2]) == [1, 2, 3]
"""

PLUGIN_TEST = """
import pytest
from trustly.models import EstablishRequest


@pytest.mark.parametrize("trustly_client", ["in-process", "https"], indirect=True)
def test_checkout(trustly_client, trustly_simulator, trustly_events):
    data = trustly_client.sign_establish_data({
        "merchantId": trustly_simulator.merchant_id, "merchantReference": "o-1", "paymentType": "Deferred",
        "currency": "USD", "amount": "1.00", "returnUrl": "https://s.example/r", "cancelUrl": "https://s.example/c",
    })
    transaction_id = str(trustly_client.transactions.establish(body=EstablishRequest.from_dict(data)).transaction_id)
    trustly_simulator.authorize(transaction_id)
    assert trustly_events.wait_for("Authorize", object_id=transaction_id)
"""


def _run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env={**_clean_env(), **env}, capture_output=True, text=True, timeout=300)


def _without_extras(python: Path, url: str, tmp_path: Path) -> None:
    """The plugin loads (and stays out of the way) and the command explains the missing extra."""
    bin_dir = python.parent
    command = _run([str(bin_dir / "trustly"), "--version"], tmp_path)
    assert command.returncode == 3 and 'pip install "trustly-api-client[cli]"' in command.stderr, command.stderr
    _pip_install(python, url, "pytest")
    suite = tmp_path / "plain"
    suite.mkdir()
    (suite / "test_plain.py").write_text(PLAIN_TEST)
    plain = _run([str(bin_dir / "pytest"), "-q", "-p", "no:cacheprovider"], suite)
    assert plain.returncode == 0 and "1 passed" in plain.stdout, plain.stdout + plain.stderr
    markers = _run([str(bin_dir / "pytest"), "--markers"], suite)
    assert "@pytest.mark.trustly_simulator" in markers.stdout  # loaded through its pytest11 entry point


def _with_extras(bin_dir: Path, tmp_path: Path) -> None:
    """The installed `trustly` command and the plugin, as a merchant runs them."""
    assert _run([str(bin_dir / "trustly"), "--version"], tmp_path).stdout.startswith("trustly ")
    suite = tmp_path / "merchant"
    suite.mkdir()
    (suite / "test_checkout.py").write_text(PLUGIN_TEST)
    plugin = _run([str(bin_dir / "pytest"), "-q", "-p", "no:cacheprovider", "-W", "error"], suite)
    assert plugin.returncode == 0 and "2 passed" in plugin.stdout, plugin.stdout + plugin.stderr

    server = subprocess.Popen(
        [str(bin_dir / "trustly"), "simulator", "--port", "0"],
        cwd=tmp_path,
        env=_clean_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first.startswith("Trustly simulator at http://127.0.0.1:"), first
        base_url = first.split(" at ", 1)[1].strip()
        credentials = {"TRUSTLY_ACCESS_ID": "simulator-access-id", "TRUSTLY_ACCESS_KEY": "simulator-access-key"}
        listed = _run(
            [str(bin_dir / "trustly"), "transactions", "list", "--json"],
            tmp_path,
            TRUSTLY_ENVIRONMENT=base_url,
            **credentials,
        )
        assert listed.returncode == 0 and json.loads(listed.stdout) == [], listed.stderr
        missing = _run(
            [str(bin_dir / "trustly"), "payments", "get", "1"], tmp_path, TRUSTLY_ENVIRONMENT=base_url, **credentials
        )
        assert missing.returncode == 6 and "correlation id" in missing.stderr
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=20) == 0
        if server.stdout is not None:
            server.stdout.close()
