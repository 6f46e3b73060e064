"""Helpers for tests that drive the client over httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

import trustly
from tests.conftest import ACCESS_ID, ACCESS_KEY, BASE_URL

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that answers from a script and keeps every request."""

    def __init__(self, *answers: httpx.Response | Exception | Handler) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer


def make_client(handler: Handler, **options: Any) -> trustly.TrustlyClient:
    return trustly.TrustlyClient(
        base_url=BASE_URL,
        access_id=ACCESS_ID,
        access_key=ACCESS_KEY,
        transport=httpx.MockTransport(handler),
        **options,
    )


BACKENDS = ("httpx", "aiohttp")
"""The async client's backends; suites that must hold on both take the `backend` fixture."""


def make_async_client(handler: Handler, backend: str = "httpx", **options: Any) -> trustly.AsyncTrustlyClient:
    """An async client whose requests `handler` answers, on either backend (see aiohttp_bridge)."""
    if backend == "aiohttp":
        from tests.overlay.aiohttp_bridge import bridged_base_url

        return trustly.AsyncTrustlyClient(
            base_url=bridged_base_url(handler),
            access_id=ACCESS_ID,
            access_key=ACCESS_KEY,
            backend="aiohttp",
            **options,
        )
    return trustly.AsyncTrustlyClient(
        base_url=BASE_URL,
        access_id=ACCESS_ID,
        access_key=ACCESS_KEY,
        transport=httpx.MockTransport(handler),
        **options,
    )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each async backend in turn."""
    return str(request.param)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record backoff waits instead of sleeping."""
    import trustly._sender as sender

    waited: list[float] = []

    async def fake_async_sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(sender.time, "sleep", waited.append)
    monkeypatch.setattr(sender, "_async_sleep", fake_async_sleep)
    return waited
