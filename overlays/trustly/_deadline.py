"""The whole call's deadline, enforced where a call can block.

httpx's timeouts bound one network operation each: a read timeout bounds each read, so a server
that sends its status line, its headers or its body a byte at a time, every byte within the read
timeout, would hold a call far past its deadline. The deadline is made structural instead:

- Sync: the pooled httpx client opens its connections through `DeadlineBackend`. Its streams cut
  the timeout of every read, write and TLS handshake to what is left of the current attempt's
  deadline, which the sender sets around each attempt (`attempt_deadline`). A read blocked when
  the deadline passes is interrupted by the socket's own timeout and surfaces as httpx's
  `ReadTimeout` (`ConnectTimeout` while connecting, `WriteTimeout` while sending), so the usual
  outcome rules apply: "may have arrived" once the request could have left, "not sent" before.
  No thread and no timer: one clock read per socket operation.
- Async: the sender runs each attempt inside `asyncio.timeout` (`attempt_timeout`), whatever
  backend carries it. The timeout fires `GRACE` seconds after the deadline, so that httpx's own
  timeouts, which are cut to the deadline and say precisely whether the request left, fire
  first whenever they can; the backstop catches what they cannot (a dripped status line or
  headers) and counts as a read timeout.

A transport passed in by the caller is bounded the same way when it is an `httpx.HTTPTransport`;
any other transport (a mock, a custom one) keeps only httpx's per-operation timeouts and the
sender's check between body chunks.
"""

from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Iterable
from contextvars import ContextVar, Token
from typing import Any

import httpcore
import httpx

__all__ = [
    "GRACE",
    "DeadlineBackend",
    "attempt_deadline",
    "attempt_timeout",
    "bound_client",
    "end_attempt",
    "timed_out",
]

GRACE = 0.1
"""Seconds past the deadline before the async backstop cancels an attempt."""

_monotonic = time.monotonic  # a module global: one lookup less on every socket operation

# The monotonic time the current attempt must end by, for the thread (or task) making it.
_DEADLINE: ContextVar[float | None] = ContextVar("trustly_attempt_deadline", default=None)


def attempt_deadline(remaining: float) -> Token[float | None]:
    """Bound the socket operations of this thread's next attempt to `remaining` seconds from now.

    Pass the token to `end_attempt` when the attempt is over (its body read included).
    """
    return _DEADLINE.set(_monotonic() + remaining)


def end_attempt(token: Token[float | None]) -> None:
    _DEADLINE.reset(token)


def _cut(timeout: float | None, expired: type[Exception]) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    remaining = deadline - _monotonic()
    if remaining <= 0:
        raise expired("the call's deadline passed")
    return remaining if timeout is None or timeout > remaining else timeout


class _Stream(httpcore.NetworkStream):
    """A connection's stream whose every blocking operation ends by the attempt's deadline."""

    __slots__ = ("_stream",)

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        # `_cut` inlined: this runs for every read of every call.
        deadline = _DEADLINE.get()
        if deadline is not None:
            remaining = deadline - _monotonic()
            if remaining <= 0:
                raise httpcore.ReadTimeout("the call's deadline passed")
            if timeout is None or timeout > remaining:
                timeout = remaining
        return self._stream.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _cut(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, _cut(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, with streams bounded by the current attempt's deadline."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _cut(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        timeout = _cut(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def bound_client(client: httpx.Client) -> httpx.Client:
    """Route every connection `client` opens, proxies included, through a `DeadlineBackend`.

    httpx does not let a caller choose httpcore's network backend, so it is swapped on each of
    the client's httpcore pools (httpx and httpcore are pinned below their next major release,
    and the integration suite's dripped-header faults fail if this stops taking effect).
    Returns `client`.
    """
    mounts: dict[Any, Any] = getattr(client, "_mounts", {})
    for transport in (getattr(client, "_transport", None), *mounts.values()):
        pool = getattr(transport, "_pool", None) if isinstance(transport, httpx.HTTPTransport) else None
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, DeadlineBackend):
            pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]
    return client


def attempt_timeout(seconds: float) -> contextlib.AbstractAsyncContextManager[Any]:
    """An `asyncio.timeout` ending an async attempt `seconds` (plus `GRACE`) from now.

    Outside asyncio (trio through anyio) there is nothing to arm: httpx's per-operation
    timeouts and the sender's check between body chunks bound the attempt there.
    """
    import asyncio  # not at the top: `import trustly` should not pay for it

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return contextlib.nullcontext()
    return asyncio.timeout(max(seconds, 0.0) + GRACE)


def timed_out(scope: contextlib.AbstractAsyncContextManager[Any]) -> bool:
    """Whether an `attempt_timeout` scope is what raised the `TimeoutError` just caught."""
    expired = getattr(scope, "expired", None)
    return bool(expired is not None and expired())
