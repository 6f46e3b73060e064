"""Load: many calls against the simulator leave no leaked connection or file descriptor."""

from __future__ import annotations

import asyncio
import gc
import os
import time
from collections.abc import Iterator

import httpx
import pytest

import trustly
import trustly._client as trustly_client
from trustly.testing import Simulator, SimulatorServer

from ..conftest import REPORT
from .conftest import ACCESS_ID, ACCESS_KEY, REALISM

pytestmark = pytest.mark.integration


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _settle(server: SimulatorServer, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while server.open_connections and time.monotonic() < deadline:
        time.sleep(0.01)


def _fds_back_to(before: int, timeout: float = 5.0) -> int:
    """Open descriptors once closed sockets are released (the server's threads close theirs late)."""
    deadline = time.monotonic() + timeout
    while _open_fds() > before and time.monotonic() < deadline:
        gc.collect()  # a socket nothing refers to any more is not a leak
        time.sleep(0.01)
    return _open_fds()


@pytest.fixture
def quiet_server() -> Iterator[SimulatorServer]:
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, check_responses=False, realism=REALISM)
    with SimulatorServer(sim) as server:
        yield server
    sim.close()


def test_sequential_calls_leak_nothing(quiet_server: SimulatorServer) -> None:
    server = quiet_server
    fds_before = _open_fds()
    started = time.perf_counter()
    with trustly.TrustlyClient(base_url=server.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY) as client:
        for _ in range(10_000):
            client.countries.list()
    sequential = time.perf_counter() - started
    _settle(server)
    assert server.open_connections == 0
    assert _open_fds() <= fds_before
    assert server.requests == 10_000
    REPORT.append(f"load: 10,000 sequential calls in {sequential:.1f} s; open connections after: 0")


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
def test_concurrent_calls_leak_nothing(quiet_server: SimulatorServer, backend: trustly_client.Backend) -> None:
    server = quiet_server
    fds_before = _open_fds()

    async def burst() -> float:
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
        async with trustly.AsyncTrustlyClient(
            base_url=server.base_url,
            access_id=ACCESS_ID,
            access_key=ACCESS_KEY,
            limits=limits,
            deadline=120,
            backend=backend,
        ) as client:
            start = time.perf_counter()
            watch = asyncio.create_task(watch_connections())
            results = await asyncio.gather(*(client.countries.list() for _ in range(1_000)))
            watch.cancel()
            assert len(results) == 1_000
            return time.perf_counter() - start

    peak = 0

    async def watch_connections() -> None:
        # The pool, split into small pools on the httpx backend, never opens more than its limit.
        nonlocal peak
        while True:
            peak = max(peak, server.open_connections)
            await asyncio.sleep(0.001)

    concurrent = asyncio.run(burst())
    assert 0 < peak <= 50
    _settle(server)
    assert server.open_connections == 0
    assert _fds_back_to(fds_before) <= fds_before
    assert server.requests == 1_000
    REPORT.append(
        f"load, async on {backend}: 1,000 concurrent calls on 50 connections (at most {peak} open) in "
        f"{concurrent:.1f} s; open connections after: 0, file descriptors before/after: {fds_before}/{_open_fds()}"
    )


def test_no_open_connections_means_no_open_descriptors() -> None:
    """`open_connections` reaches 0 only once the server's sockets are closed, not merely closing.

    The load test compares descriptor counts right after the server reports no connections; a
    socket still waiting for the loop to close it made that count one too high now and then.
    """
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, check_responses=False)
    with SimulatorServer(sim) as server:
        fds_before = _open_fds()
        late = 0
        for _ in range(30):

            async def calls() -> None:
                async with trustly.AsyncTrustlyClient(
                    base_url=server.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY
                ) as client:
                    await asyncio.gather(*(client.countries.list() for _ in range(5)))

            asyncio.run(calls())
            while server.open_connections:  # look the moment the count reaches 0
                time.sleep(0)
            late += _open_fds() > fds_before
    sim.close()
    assert late == 0, f"{late} of 30 rounds had a descriptor open after the server reported no connections"
