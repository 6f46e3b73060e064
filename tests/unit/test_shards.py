"""The async httpx backend's pool split into small pools: limits that add up, and fair routing."""

from __future__ import annotations

import asyncio
import ssl

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import trustly
from tests.conftest import ACCESS_ID, ACCESS_KEY, BASE_URL
from trustly._shards import SHARD_SIZE, ShardedTransport, shard_limits

CONTEXT = ssl.create_default_context()


@settings(max_examples=300, deadline=None)
@given(
    connections=st.none() | st.integers(min_value=1, max_value=1_000),
    keepalive=st.none() | st.integers(min_value=0, max_value=1_000),
    expiry=st.none() | st.floats(min_value=0.1, max_value=60),
)
def test_the_small_pools_limits_add_up_to_the_clients(
    connections: int | None, keepalive: int | None, expiry: float | None
) -> None:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=keepalive, keepalive_expiry=expiry)
    shares = shard_limits(limits)
    if connections is None:
        assert shares == [limits]  # no limit: one pool, as httpx would build it
        return
    assert len(shares) == -(-connections // SHARD_SIZE)
    assert sum(s.max_connections or 0 for s in shares) == connections
    assert all(1 <= (s.max_connections or 0) <= SHARD_SIZE for s in shares)
    if keepalive is None:
        assert all(s.max_keepalive_connections is None for s in shares)
    else:
        assert sum(s.max_keepalive_connections or 0 for s in shares) == keepalive
        # the first pools, which a lightly loaded client uses, get the larger keep-alive shares
        kept = [s.max_keepalive_connections or 0 for s in shares]
        assert kept == sorted(kept, reverse=True)
    assert all(s.keepalive_expiry == expiry for s in shares)


class Body(httpx.AsyncByteStream):
    """An answer's body that arrives as a stream, as from a real connection."""

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield b"{}"


class Gate:
    """A pool stand-in whose answers wait until released; it records what it served."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.served = 0
        self.fail = False
        self.whole = False

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await self.open.wait()
        if self.fail:
            raise httpx.ConnectError("refused")
        self.served += 1
        if self.whole:
            return httpx.Response(200, content=b"{}")  # read whole before the transport returns it
        return httpx.Response(200, stream=Body())


def _sharded(pools: int) -> tuple[ShardedTransport, list[Gate]]:
    transport = ShardedTransport(httpx.Limits(max_connections=pools * SHARD_SIZE), CONTEXT, trust_env=False)
    gates = [Gate() for _ in range(pools)]
    transport._pools = [httpx.MockTransport(gate) for gate in gates]
    return transport, gates


async def _get(transport: ShardedTransport) -> httpx.Response:
    response = await transport.handle_async_request(httpx.Request("GET", BASE_URL + "/countries"))
    await response.aread()
    await response.aclose()
    return response


def test_requests_go_to_the_least_busy_pool_and_are_counted_until_closed() -> None:
    async def scenario() -> None:
        transport, gates = _sharded(3)
        calls = [asyncio.create_task(_get(transport)) for _ in range(6)]
        await asyncio.sleep(0)
        assert transport.in_flight() == [2, 2, 2]
        for gate in gates:
            gate.open.set()
        await asyncio.gather(*calls)
        assert transport.in_flight() == [0, 0, 0]
        assert [gate.served for gate in gates] == [2, 2, 2]
        # One at a time, every request takes the first pool: its connection stays warm.
        for _ in range(5):
            await _get(transport)
        assert [gate.served for gate in gates] == [7, 2, 2]

    asyncio.run(scenario())


@pytest.mark.parametrize("ending", ["error", "cancelled", "closed twice", "read whole by the pool"])
def test_a_request_that_ends_early_is_no_longer_counted(ending: str) -> None:
    async def scenario() -> None:
        transport, gates = _sharded(2)
        for gate in gates:
            gate.open.set()
        if ending == "error":
            gates[0].fail = True
            with pytest.raises(httpx.ConnectError):
                await _get(transport)
        elif ending == "cancelled":
            gates[0].open.clear()
            call = asyncio.create_task(_get(transport))
            await asyncio.sleep(0)
            assert transport.in_flight() == [1, 0]
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
        elif ending == "closed twice":
            response = await transport.handle_async_request(httpx.Request("GET", BASE_URL + "/x"))
            assert transport.in_flight() == [1, 0]
            await response.aclose()
            await response.stream.aclose()  # type: ignore[union-attr]
        else:
            gates[0].whole = True
            response = await transport.handle_async_request(httpx.Request("GET", BASE_URL + "/x"))
            assert response.content == b"{}"
        assert transport.in_flight() == [0, 0]

    asyncio.run(scenario())


def test_the_async_client_sends_through_small_pools_unless_given_a_transport() -> None:
    async def transports() -> list[object]:
        given_transport = httpx.MockTransport(lambda request: httpx.Response(200))
        found = []
        for options in ({}, {"transport": given_transport}):
            client = trustly.AsyncTrustlyClient(
                base_url=BASE_URL, access_id=ACCESS_ID, access_key=ACCESS_KEY, **options
            )
            found.append(client._pool.get()._transport)
            await client.close()
        return found

    default, given_transport = asyncio.run(transports())
    assert isinstance(default, ShardedTransport)
    assert default.pools == 100 // SHARD_SIZE
    assert isinstance(given_transport, httpx.MockTransport)
