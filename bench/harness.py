"""Timing helpers for `make bench`: interleaved rounds, summaries, the server and its capacity.

Every comparison is made inside one process and one run, in short interleaved rounds whose
order rotates, so that the clients compared see the same machine noise; a ratio is taken per
round and summarised as min / median / max.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "Summary",
    "interleaved",
    "interleaved_async",
    "pipelined_capacity",
    "rate",
    "start_server",
    "stop_server",
    "summarise",
]


Summary = dict[str, float]


def summarise(values: Sequence[float]) -> Summary:
    """min, median and max of a series."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def interleaved(
    functions: dict[str, Callable[[], Any]], calls: int, rounds: int, warmup: int = 20
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Seconds per call of each function, one figure per round; rounds rotate the order.

    Returns wall-clock seconds and this process's CPU seconds. On a busy machine the wall
    clock also counts waiting for a core; the CPU time is what the client itself spends.
    """
    for function in functions.values():
        for _ in range(warmup):
            function()
    names = list(functions)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            function = functions[name]
            start, start_cpu = time.perf_counter(), time.process_time()
            for _ in range(calls):
                function()
            wall[name].append((time.perf_counter() - start) / calls)
            cpu[name].append((time.process_time() - start_cpu) / calls)
    return wall, cpu


async def rate(one: Callable[[], Awaitable[Any]], concurrency: int, total: int, cap: float) -> tuple[float, bool]:
    """Calls per second of `one` with `concurrency` calls in flight until `total` are done.

    A client whose throughput has collapsed would keep the bench busy for minutes: after
    `cap` seconds the calls still waiting are cancelled and the rate is what completed in
    that time. Returns the rate and whether the cap was reached.
    """
    remaining = total
    completed = 0

    async def worker() -> None:
        nonlocal remaining, completed
        while remaining > 0:
            remaining -= 1
            await one()
            completed += 1

    start = time.perf_counter()
    tasks = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, total))]
    done, pending = await asyncio.wait(tasks, timeout=cap)
    elapsed = time.perf_counter() - start
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()  # a failed call is a broken benchmark, not a slow client
    return completed / elapsed, bool(pending)


async def interleaved_async(
    functions: dict[str, Callable[[], Awaitable[Any]]], concurrency: int, total: int, rounds: int, cap: float
) -> tuple[dict[str, list[float]], set[str]]:
    """Calls per second of each function at `concurrency`, one figure per round, rotating order.

    Also returns the names of the functions that reached the time cap in some round.
    """
    for one in functions.values():  # connections (a pool holds 100), caches, imports
        await rate(one, min(concurrency, 100), min(total, max(concurrency, 50), 200), cap)
    names = list(functions)
    rates: dict[str, list[float]] = {name: [] for name in names}
    capped: set[str] = set()
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            value, hit_cap = await rate(functions[name], concurrency, total, cap)
            rates[name].append(value)
            if hit_cap:
                capped.add(name)
    return rates, capped


def start_server(bodies: Path) -> tuple[subprocess.Popen[str], int]:
    """Start bench/server.py on `bodies` in its own process; the process and its port."""
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("server.py")), str(bodies)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line.strip():
        server.kill()
        raise RuntimeError("the bench server did not start")
    return server, int(line)


def stop_server(server: subprocess.Popen[str]) -> None:
    """Stop a server from `start_server` and release its pipe."""
    server.kill()
    server.wait()
    if server.stdout is not None:
        server.stdout.close()


async def pipelined_capacity(
    port: int, target: str, connections: int = 4, depth: int = 32, seconds: float = 1.5
) -> tuple[float, int]:
    """Answers per second the server gives `connections` pipelining clients that cost almost nothing.

    Each client writes `depth` requests at once and reads exactly as many answers (it knows
    their size), so the figure is the server's capacity, not a client's. Returns the rate and
    the number of answers read.
    """
    request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic YmVuY2g6YmVuY2g=\r\n\r\n".encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(
        next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")).split(b":")[1]
    )
    answer_size = len(head) + length
    await reader.readexactly(length)
    writer.close()
    answered = 0
    stop = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal answered
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        batch = request * depth
        try:
            while time.perf_counter() < stop:
                writer.write(batch)
                await reader.readexactly(answer_size * depth)
                answered += depth
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return answered / (time.perf_counter() - start), answered
