"""The whole call's deadline at the socket: every blocking operation of an attempt ends by it."""

from __future__ import annotations

import ssl
from typing import Any

import httpcore
import httpx
import pytest

from trustly._deadline import (
    DeadlineBackend,
    _Stream,
    attempt_deadline,
    attempt_timeout,
    bound_client,
    end_attempt,
    timed_out,
)


class Recording(httpcore.NetworkStream, httpcore.NetworkBackend):
    """A stream and backend that record the timeout each operation was given."""

    def __init__(self) -> None:
        self.timeouts: list[tuple[str, float | None]] = []

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.timeouts.append(("read", timeout))
        return b""

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.timeouts.append(("write", timeout))

    def close(self) -> None:
        pass

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        self.timeouts.append(("tls", timeout))
        return self

    def get_extra_info(self, info: str) -> Any:
        return f"info:{info}"

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, *args: Any) -> httpcore.NetworkStream:
        self.timeouts.append(("connect", timeout))
        return self

    def connect_unix_socket(self, path: str, timeout: float | None = None, *args: Any) -> httpcore.NetworkStream:
        self.timeouts.append(("connect", timeout))
        return self


def _every_operation(backend: DeadlineBackend, given: float | None) -> httpcore.NetworkStream:
    stream = backend.connect_tcp("127.0.0.1", 1, given)
    backend.connect_unix_socket("/nowhere", given)
    stream.read(10, given)
    stream.write(b"x", given)
    return stream.start_tls(ssl.create_default_context(), "example.com", given)


@pytest.mark.parametrize("given", [None, 0.5, 30.0])
def test_without_an_attempt_every_timeout_passes_through(given: float | None) -> None:
    recording = Recording()
    _every_operation(DeadlineBackend(recording), given)
    assert [t for _, t in recording.timeouts] == [given] * 5


@pytest.mark.parametrize("given", [None, 0.5, 30.0])
def test_every_timeout_is_cut_to_what_is_left_of_the_attempt(given: float | None) -> None:
    recording = Recording()
    token = attempt_deadline(2.0)
    try:
        tls_stream = _every_operation(DeadlineBackend(recording), given)
        tls_stream.read(10, given)  # the stream after the TLS handshake is bounded too
    finally:
        end_attempt(token)
    assert isinstance(tls_stream, _Stream)
    for operation, timeout in recording.timeouts:
        assert timeout is not None and 0 < timeout <= 2.0, operation
        if given is not None and given < 1.9:
            assert timeout == given, operation  # a shorter timeout is kept


@pytest.mark.parametrize(
    ("operation", "raised"),
    [
        ("connect", httpcore.ConnectTimeout),
        ("read", httpcore.ReadTimeout),
        ("write", httpcore.WriteTimeout),
        ("tls", httpcore.ConnectTimeout),
    ],
)
def test_an_operation_after_the_deadline_is_a_timeout_of_its_kind(operation: str, raised: type[Exception]) -> None:
    recording = Recording()
    backend = DeadlineBackend(recording)
    stream = _Stream(recording)
    token = attempt_deadline(-0.001)
    try:
        with pytest.raises(raised, match="deadline"):
            if operation == "connect":
                backend.connect_tcp("127.0.0.1", 1, 5.0)
            elif operation == "read":
                stream.read(10, 5.0)
            elif operation == "write":
                stream.write(b"x", 5.0)
            else:
                stream.start_tls(ssl.create_default_context(), None, 5.0)
    finally:
        end_attempt(token)
    assert recording.timeouts == [], "nothing reached the socket"


def test_attempts_nest_and_end_cleanly() -> None:
    recording = Recording()
    stream = _Stream(recording)
    outer = attempt_deadline(5.0)
    inner = attempt_deadline(1.0)
    stream.read(1, None)
    end_attempt(inner)
    stream.read(1, None)
    end_attempt(outer)
    stream.read(1, None)
    inner_timeout, outer_timeout, none = (t for _, t in recording.timeouts)
    assert inner_timeout is not None and inner_timeout <= 1.0
    assert outer_timeout is not None and 1.0 < outer_timeout <= 5.0
    assert none is None
    assert stream.get_extra_info("socket") == "info:socket"


def test_every_pool_a_client_sends_through_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    with httpx.Client(trust_env=True) as client:
        bound_client(bound_client(client))  # twice: still one layer
        transports = [client._transport, *(t for t in client._mounts.values() if t is not None)]
        assert len(transports) >= 3, "the default transport and both proxies"
        for transport in transports:
            assert isinstance(transport, httpx.HTTPTransport)
            backend = transport._pool._network_backend
            assert isinstance(backend, DeadlineBackend) and not isinstance(backend._backend, DeadlineBackend)


def test_a_transport_that_is_not_httpx_s_is_left_alone() -> None:
    mock = httpx.MockTransport(lambda request: httpx.Response(200))
    with httpx.Client(transport=mock) as client:
        assert bound_client(client) is client and client._transport is mock


def test_outside_asyncio_there_is_no_async_backstop() -> None:
    scope = attempt_timeout(1.0)
    assert not timed_out(scope)
    assert not hasattr(scope, "expired")
