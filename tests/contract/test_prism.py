"""Contract test against a third-party mock: Prism serves our spec with request validation on.

Every operation is called through the client with valid arguments. Prism validates each request
against the spec and reports violations in an `sl-violations` header (and refuses invalid
requests with a 4xx); every request must come back without violations and every answer must
parse into its model. (Prism's `--errors` mode is not used: its static answers break the spec's
own patterns, e.g. "string" for an amount, which would hide request problems among its own.)
Prism hangs on malformed JSON bodies (stoplightio/prism#2664), so only
well-formed requests are sent, each with a timeout.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import trustly
from trustly_api_client.operations import OPERATIONS

from .calls import Ids, every_operation

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PRISM = ROOT / "node_modules" / ".bin" / "prism"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not PRISM.exists():
        pytest.fail("Prism is not installed: run `make install`")
    port = _free_port()
    log = (tmp_path_factory.mktemp("prism") / "prism.log").open("w+")
    process = subprocess.Popen(
        [
            str(PRISM),
            "mock",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            str(ROOT / "spec" / "trustly-openapi.yaml"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/countries", auth=("a", "b"), timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"Prism did not start:\n{log.read()}")
                time.sleep(0.2)
        yield url  # Prism serves the paths at the root, without the /api/v1 prefix
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class Recording(httpx.BaseTransport):
    """Forwards to a real HTTP transport and keeps Prism's violation reports."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.violations: dict[str, str] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        # Prism reports its own made-up answers' violations too; only the request's count here.
        reported = json.loads(response.headers.get("sl-violations", "[]"))
        ours = [v for v in reported if v.get("location", [""])[0] == "request"]
        if ours:
            self.violations[f"{request.method} {request.url.path}"] = json.dumps(ours)
        return response

    def close(self) -> None:
        self._inner.close()


def test_every_operation_passes_prism_validation_and_parses(prism: str) -> None:
    recording = Recording()
    with trustly.TrustlyClient(
        base_url=prism, access_id="contract-id", access_key="contract-key", timeout=10, max_retries=0,
        transport=recording,
    ) as client:  # fmt: skip
        calls = every_operation(client, Ids())
        assert set(calls) == set(OPERATIONS)
        failures = {}
        for operation_id, call in calls.items():
            try:
                call()
            except trustly.TrustlyError as error:
                body = getattr(error, "body", b"")
                failures[operation_id] = f"{error} {body[:300]!r}"
    assert failures == {}, "\n".join(f"{k}: {v}" for k, v in failures.items())
    assert recording.violations == {}


def test_prism_rejects_a_request_that_breaks_the_spec(prism: str) -> None:
    # The mock really validates: a capture without its required fields is refused.
    response = httpx.post(
        f"{prism}/transactions/1/capture",
        data={"amount": "1.00"},
        auth=("contract-id", "contract-key"),
        timeout=10,
    )
    assert 400 <= response.status_code < 500
