"""The simulator as an httpx transport: the same behaviour with no socket at all.

```python
sim = Simulator()
client = TrustlyClient(base_url="http://127.0.0.1/api/v1", access_id=sim.access_id,
                       access_key="simulator-access-key", transport=SimulatorTransport(sim))
```
Faults map onto what httpx would raise: a dropped connection is `httpx.RemoteProtocolError`,
a delay longer than the request's read timeout is `httpx.ReadTimeout` (after applying).
Answering faults change the answer as over HTTP; a drip needs a socket and answers at once here.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from ._simulator import Reply, Simulator

__all__ = ["AsyncSimulatorTransport", "SimulatorTransport"]


def _call(sim: Simulator, request: httpx.Request) -> Reply:
    headers = {k.lower(): v for k, v in request.headers.items()}
    return sim.handle(request.method, request.url.raw_path.decode("ascii"), headers, request.read())


def _response(reply: Reply) -> httpx.Response:
    status, headers, body = reply.status, reply.headers, reply.body
    if reply.fault is not None:
        status, headers, body = reply.fault.disguise(status, headers, body)
    return httpx.Response(status, headers=headers, content=body)


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout", {})
    value = timeout.get("read") if isinstance(timeout, dict) else None
    return float(value) if value is not None else None


class SimulatorTransport(httpx.BaseTransport):
    """A sync httpx transport answering from a `Simulator`."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer `request` from the simulator, turning an injected fault into what httpx would raise."""
        reply = _call(self.simulator, request)
        fault = reply.fault
        if fault is not None and fault.kind in ("drop_before", "drop_after"):
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        if fault is not None and fault.kind == "delay":
            limit = _read_timeout(request)
            if limit is not None and fault.seconds > limit:
                time.sleep(limit)
                raise httpx.ReadTimeout("simulated read timeout", request=request)
            time.sleep(fault.seconds)
        return _response(reply)


class AsyncSimulatorTransport(httpx.AsyncBaseTransport):
    """An async httpx transport answering from a `Simulator`."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer `request` from the simulator, turning an injected fault into what httpx would raise."""
        await request.aread()
        reply = _call(self.simulator, request)
        fault = reply.fault
        if fault is not None and fault.kind in ("drop_before", "drop_after"):
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        if fault is not None and fault.kind == "delay":
            limit = _read_timeout(request)
            if limit is not None and fault.seconds > limit:
                await asyncio.sleep(limit)
                raise httpx.ReadTimeout("simulated read timeout", request=request)
            await asyncio.sleep(fault.seconds)
        return _response(reply)
