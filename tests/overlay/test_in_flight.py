"""The async client never hands its connection pool more requests than it has connections."""

from __future__ import annotations

import asyncio

import httpx
import pytest

import trustly
from tests.conftest import ACCESS_ID, ACCESS_KEY, BASE_URL

COUNTRIES = {"countries": [{"countryCode": "US", "name": "United States"}]}


class SlowServer:
    """An async MockTransport handler that records how many requests it serves at once."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.active = 0
        self.most_active = 0
        self.served = 0
        self.received = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.received += 1
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.active -= 1
        self.served += 1
        return httpx.Response(200, json=COUNTRIES)


def _client(server: SlowServer, connections: int | None, **options: float) -> trustly.AsyncTrustlyClient:
    return trustly.AsyncTrustlyClient(
        base_url=BASE_URL,
        access_id=ACCESS_ID,
        access_key=ACCESS_KEY,
        transport=httpx.MockTransport(server),
        limits=httpx.Limits(max_connections=connections),
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("connections", [1, 3, 10])
def test_a_burst_is_served_at_most_pool_size_at_a_time(connections: int) -> None:
    server = SlowServer(delay=0.005)

    async def burst() -> int:
        async with _client(server, connections) as client:
            copy = client.with_options(max_retries=0)  # copies share the pool and its limit
            calls = [client.countries.list() for _ in range(20)] + [copy.countries.list() for _ in range(20)]
            return len(await asyncio.gather(*calls))

    assert asyncio.run(burst()) == 40
    assert server.served == 40
    assert server.most_active == connections


def test_no_limit_when_the_pool_has_none() -> None:
    server = SlowServer(delay=0.005)

    async def burst() -> None:
        async with _client(server, None) as client:
            await asyncio.gather(*(client.countries.list() for _ in range(20)))

    asyncio.run(burst())
    assert server.most_active == 20


def test_waiting_for_a_slot_is_bounded_by_the_deadline_and_sends_nothing() -> None:
    server = SlowServer(delay=0.5)

    async def burst() -> list[object]:
        async with _client(server, 1, deadline=0.2, max_retries=0) as client:
            return await asyncio.gather(*(client.countries.list() for _ in range(2)), return_exceptions=True)

    first, second = asyncio.run(burst())
    # The first call's answer would come after its deadline: MockTransport applies no timeouts,
    # the deadline still ends the call. The second waited for the only connection until its
    # deadline and was never handed to the pool.
    assert isinstance(first, trustly.APITimeoutError) and isinstance(first.__cause__, httpx.ReadTimeout)
    assert isinstance(second, trustly.APITimeoutError)
    assert isinstance(second.__cause__, httpx.PoolTimeout)
    assert server.received == 1 and server.served == 0


def test_the_limit_follows_the_event_loop() -> None:
    server = SlowServer(delay=0.001)
    client = _client(server, 2)

    async def burst() -> None:
        await asyncio.gather(*(client.countries.list() for _ in range(6)))

    asyncio.run(burst())
    asyncio.run(burst())  # a semaphore bound to the first, closed loop would fail here
    assert server.served == 12
    assert server.most_active == 2
