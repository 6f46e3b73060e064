"""The async httpx backend's connection pool, split into small pools so that it scales with concurrency.

httpcore's async pool does work for every connection it holds each time it assigns a request (it
checks every idle connection for expiry, with a socket poll), so the cost of one request grows
with the number of pooled connections: with 100 connections a call costs about twice what it
costs with 10. `ShardedTransport` holds several pools of at most `SHARD_SIZE` connections each
and hands each request to the least busy one, so a request pays for a few connections however
large the whole pool is. The pools together respect the client's `httpx.Limits`: their
connection and keep-alive limits are shares of the client's, adding up to exactly those.

As in any httpcore pool, an idle connection past its keep-alive expiry is closed when its pool
next assigns a request, or when the client closes; the first pools, which every request tries
first, are the ones a lightly loaded client keeps using.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import httpx

__all__ = ["SHARD_SIZE", "ShardedTransport"]

SHARD_SIZE = 2
"""The most connections one of the small pools holds."""


def _share(total: int | None, index: int, count: int) -> int | None:
    """Pool `index`'s share of `total` split over `count` pools (None: no limit)."""
    if total is None:
        return None
    return total // count + (1 if index < total % count else 0)


def shard_limits(limits: httpx.Limits) -> list[httpx.Limits]:
    """The limits of each small pool: as many pools as `SHARD_SIZE` needs, their limits adding up to `limits`."""
    total = limits.max_connections
    count = 1 if total is None else max(1, -(-total // SHARD_SIZE))
    return [
        httpx.Limits(
            max_connections=_share(total, index, count),
            max_keepalive_connections=_share(limits.max_keepalive_connections, index, count),
            keepalive_expiry=limits.keepalive_expiry,
        )
        for index in range(count)
    ]


class ShardedTransport(httpx.AsyncBaseTransport):
    """httpx's async transport as several small connection pools; use it as `AsyncClient(transport=...)`.

    A request goes to the pool with the fewest requests in flight (the first of those, so that a
    lightly loaded client reuses the same few connections). A request counts as in flight until
    its answer's body is closed.
    """

    def __init__(self, limits: httpx.Limits, verify: ssl.SSLContext, trust_env: bool) -> None:
        self._pools = [
            httpx.AsyncHTTPTransport(verify=verify, trust_env=trust_env, limits=share) for share in shard_limits(limits)
        ]
        self._in_flight = [0] * len(self._pools)

    @property
    def pools(self) -> int:
        """How many small pools there are."""
        return len(self._pools)

    def in_flight(self) -> list[int]:
        """The number of requests in flight in each pool."""
        return list(self._in_flight)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        counts = self._in_flight
        index = counts.index(min(counts))
        counts[index] += 1
        try:
            response = await self._pools[index].handle_async_request(request)
        except BaseException:
            counts[index] -= 1
            raise
        stream = response.stream
        if response.is_closed or not isinstance(stream, httpx.AsyncByteStream):
            counts[index] -= 1  # an answer already read whole: nothing of it is left in flight
            return response
        response.stream = _Counted(stream, counts, index)
        return response

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


class _Counted(httpx.AsyncByteStream):
    """An answer's body that takes its request off its pool's in-flight count when closed."""

    __slots__ = ("_counts", "_index", "_stream")

    def __init__(self, stream: httpx.AsyncByteStream, counts: list[int], index: int) -> None:
        self._stream, self._counts, self._index = stream, counts, index

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()  # the body's own iterator: no extra step per chunk

    async def aclose(self) -> None:
        if self._index >= 0:
            self._counts[self._index] -= 1
            self._index = -1  # closing twice counts once
        await self._stream.aclose()
