"""The httpx client a client and its `with_options` copies share, rebuilt where reuse is unsafe.

Connections belong to the process that opened them (after fork() they are shared with the
parent) and, for asyncio, to the event loop that opened them: an `AsyncTrustlyClient` reused
across two `asyncio.run()` calls would otherwise send on a connection whose loop is closed. So
the sync pool is keyed by process id, the async pool by process id and running event loop.

An asyncio loop's client is closed when that loop shuts down (`asyncio.run` does this on the
way out), through an async generator registered with the loop: its `finally` runs while the
loop can still close connections cleanly.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import AsyncGenerator, Callable
from typing import Generic, TypeVar

import httpx

from ._errors import ConfigurationError

__all__ = ["AsyncPool", "SyncPool"]

C = TypeVar("C", httpx.Client, httpx.AsyncClient)


def _build(factory: Callable[[], C]) -> C:
    try:
        return factory()
    except Exception as exc:
        raise ConfigurationError(f"cannot build the HTTP client: {type(exc).__name__}: {exc}") from exc


class _PoolBase(Generic[C]):
    def __init__(self, factory: Callable[[], C]) -> None:
        self._factory: Callable[[], C] = factory
        self._lock = threading.Lock()
        self.closed = False

    def _check_open(self) -> None:
        if self.closed:
            raise ConfigurationError("this client was closed; create a new one")


class SyncPool(_PoolBase[httpx.Client]):
    """One `httpx.Client` per process."""

    def __init__(self, factory: Callable[[], httpx.Client]) -> None:
        super().__init__(factory)
        self._client: httpx.Client | None = None
        self._pid = 0

    def get(self) -> httpx.Client:
        self._check_open()
        pid = os.getpid()
        client = self._client
        if client is None or self._pid != pid:
            with self._lock:
                if self._client is None or self._pid != pid:
                    self._client = _build(self._factory)
                    self._pid = pid
                client = self._client
        return client

    def take(self) -> httpx.Client | None:
        """Mark the pool closed and hand back the httpx client to close (None if never built)."""
        with self._lock:
            client, self._client = self._client, None
            self.closed = True
        return client if self._pid == os.getpid() else None


class AsyncPool(_PoolBase[httpx.AsyncClient]):
    """One `httpx.AsyncClient` per process and event loop."""

    def __init__(self, factory: Callable[[], httpx.AsyncClient]) -> None:
        super().__init__(factory)
        self._pid = os.getpid()
        # Loops are held weakly: a finished loop's client goes with it.
        self._clients: weakref.WeakKeyDictionary[object, httpx.AsyncClient] = weakref.WeakKeyDictionary()
        self._closers: weakref.WeakKeyDictionary[object, AsyncGenerator[None, None]] = weakref.WeakKeyDictionary()

    def get(self) -> httpx.AsyncClient:
        self._check_open()
        loop = _running_loop()
        with self._lock:
            if self._pid != os.getpid():
                self._clients = weakref.WeakKeyDictionary()
                self._pid = os.getpid()
            client = self._clients.get(loop)
            if client is None:
                client = self._clients[loop] = _build(self._factory)
                if loop is not _OTHER_LOOP:
                    self._closers[loop] = _close_with_loop(client)
        return client

    def take(self) -> httpx.AsyncClient | None:
        """Mark the pool closed; hand back the current loop's client to close (others die with their loops)."""
        with self._lock:
            self.closed = True
            clients, self._clients = self._clients, weakref.WeakKeyDictionary()
            if self._pid != os.getpid():
                return None
        return clients.get(_running_loop())


async def _closer(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        if not client.is_closed:
            await client.aclose()


def _close_with_loop(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    """An async generator, started, that the running loop closes (and `client` with it) at shutdown.

    Starting it runs the loop's first-iteration hook, which registers it for
    `loop.shutdown_asyncgens()`; it reaches its `yield` without awaiting, so driving it by hand
    completes at once.
    """
    closer = _closer(client)
    step = closer.asend(None)
    try:
        step.send(None)
    except StopIteration:
        pass
    return closer


class _OtherLoop:
    """The key for an event loop that is not asyncio's (trio through anyio)."""


_OTHER_LOOP = _OtherLoop()


def _running_loop() -> object:
    import asyncio

    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return _OTHER_LOOP
