"""The edges of a call over real sockets: event loops, proxies, TLS settings, bank details in logs,
and a simulator server that answers malformed requests instead of dying on them."""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import ssl
import threading
import uuid
from collections.abc import Iterator

import pytest

import trustly
from trustly.models import RefundRequest
from trustly.testing import Simulator, SimulatorServer

from .conftest import ACCESS_ID, ACCESS_KEY
from .flows import captured

pytestmark = pytest.mark.integration


@pytest.fixture
def plain_server() -> Iterator[tuple[Simulator, SimulatorServer]]:
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, time_scale=0.001)
    with SimulatorServer(sim, head_timeout=0.3) as server:
        yield sim, server
    sim.close()


class Listener:
    """A TCP listener on 127.0.0.1 that counts connections and closes them: a proxy that must stay unused."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self.first_bytes: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    self.first_bytes.append(conn.recv(4096))
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


def test_an_async_client_works_across_two_event_loops(plain_server: tuple[Simulator, SimulatorServer]) -> None:
    sim, server = plain_server
    with trustly.TrustlyClient(base_url=server.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY) as setup:
        original = captured(setup, sim).transaction_id
    client = trustly.AsyncTrustlyClient(base_url=server.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY)

    async def refund() -> str:
        body = RefundRequest(merchant_reference=f"r-{uuid.uuid4().hex[:8]}", amount="1.00")
        return (await client.transactions.refund(original, body=body)).transaction_id

    before = len(sim.ledger.applied)
    first = asyncio.run(refund())
    second = asyncio.run(refund())  # a new loop: the first loop's connections are gone with it
    assert first != second
    assert [op for op, _, _ in sim.ledger.applied[before:]] == ["transactions_refund"] * 2


def test_loopback_base_urls_never_go_through_a_proxy(
    plain_server: tuple[Simulator, SimulatorServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, server = plain_server
    proxy = Listener()
    try:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.setenv(name, proxy.url)
        with trustly.TrustlyClient(base_url=server.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY) as client:
            assert client.countries.list().countries
        assert proxy.connections == 0
    finally:
        proxy.close()


def test_remote_base_urls_honour_the_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = Listener()
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        client = trustly.TrustlyClient(
            environment=trustly.Environment.SANDBOX, access_id=ACCESS_ID, access_key=ACCESS_KEY, max_retries=0
        )
        with client, pytest.raises(trustly.APIConnectionError):
            client.countries.list()
        assert proxy.connections == 1
        assert proxy.first_bytes[0].startswith(b"CONNECT sandbox.trustly.one:443")
        token = base64.b64encode(f"{ACCESS_ID}:{ACCESS_KEY}".encode())
        assert token not in proxy.first_bytes[0]  # credentials travel inside the TLS tunnel only
    finally:
        proxy.close()


def test_a_socks_proxy_without_its_extra_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "socks5://user:secret@127.0.0.1:1080")
    with pytest.raises(trustly.ConfigurationError, match="httpx\\[socks\\]") as caught:
        trustly.TrustlyClient(environment=trustly.Environment.SANDBOX, access_id=ACCESS_ID, access_key=ACCESS_KEY)
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize("switch_off", ["verify_mode", "check_hostname"])
def test_an_ssl_context_that_does_not_verify_is_refused(switch_off: str) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    if switch_off == "verify_mode":
        context.verify_mode = ssl.CERT_NONE
    with pytest.raises(trustly.ConfigurationError, match="does not verify"):
        trustly.TrustlyClient(
            environment=trustly.Environment.SANDBOX, access_id=ACCESS_ID, access_key=ACCESS_KEY, verify=context
        )


def test_bank_details_stay_out_of_every_log_line_over_http(
    plain_server: tuple[Simulator, SimulatorServer], caplog: pytest.LogCaptureFixture
) -> None:
    _, server = plain_server
    caplog.set_level(logging.DEBUG)
    with trustly.TrustlyClient(base_url=server.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY) as client:
        client.transactions.list(account_number="000123456789", routing_number="124003116")
    assert {record.name.split(".")[0] for record in caplog.records} >= {"httpx", "httpcore", "trustly"}
    for record in caplog.records:
        assert "000123456789" not in record.getMessage() and "124003116" not in record.getMessage()


def _exchange(server: SimulatorServer, raw: bytes) -> bytes:
    port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(raw)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _auth() -> bytes:
    return b"Authorization: Basic " + base64.b64encode(f"{ACCESS_ID}:{ACCESS_KEY}".encode()) + b"\r\n"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /api/v1/countries HTTP/1.1\r\nContent-Length: abc\r\n\r\n", b"400"),
        (b"GET /api/v1/countries HTTP/1.1\r\nContent-Length: -1\r\n\r\n", b"400"),
        (b"GET /api/v1/countries HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n", b"400"),
        (b"GET /api/v1/countries HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", b"400"),
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET /api/v1/countries HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n", b"413"),
        (b"", b"408"),  # nothing at all: the head never arrives
        (b"GET /api/v1/countries HTTP/1.1\r\nX: 1\r\n", b"408"),  # a head that stops half-way
    ],
    ids=[
        "bad length",
        "negative length",
        "bad chunk size",
        "unknown transfer coding",
        "bad request line",
        "huge length",
        "idle",
        "half a head",
    ],
)
def test_malformed_requests_get_an_answer(
    plain_server: tuple[Simulator, SimulatorServer], raw: bytes, status: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    _, server = plain_server
    answer = _exchange(server, raw)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:80]
    assert not [r for r in caplog.records if r.name == "asyncio" and r.levelno >= logging.ERROR]


def test_chunked_request_bodies_are_read(plain_server: tuple[Simulator, SimulatorServer]) -> None:
    _, server = plain_server
    body = b'{"countries": ["US"]}'
    raw = (
        b"POST /api/v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
        + _auth()
        + b"Transfer-Encoding: chunked\r\n\r\n"
        + f"{len(body) - 5:x}\r\n".encode()
        + body[:-5]
        + b"\r\n5;ext=1\r\n"
        + body[-5:]
        + b"\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )
    answer = _exchange(server, raw)
    assert answer.startswith(b"HTTP/1.1 "), answer[:80]
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert b'"countries":["US"]' in answer  # the customer was created from the reassembled body


def test_a_deeply_nested_body_is_a_400(plain_server: tuple[Simulator, SimulatorServer]) -> None:
    _, server = plain_server
    body = b"[" * 200_000 + b"]" * 200_000
    head = (
        b"POST /api/v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
        + _auth()
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
    )
    answer = _exchange(server, head + body)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:80]
    with trustly.TrustlyClient(base_url=server.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY) as client:
        assert client.countries.list().countries  # the server is still serving
