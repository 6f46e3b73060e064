"""The HTTP/1.1 server `make bench` measures clients against: fixed bodies, as fast as it can.

It runs in its own process so that it does not compete with the measured client for the GIL,
and it is built on `asyncio.Protocol` rather than streams: no task per request, and writes go
straight to the socket, with reading paused while the socket's buffer is full, so a slow
reader is never flooded. Keep-alive and pipelining work; a request body is read and ignored.

Routes (GET, any query string):
    {prefix}/api/v1/transactions            the list page
    {prefix}/api/v1/transactions/404404404  404 with the error envelope
    {prefix}/api/v1/transactions/{id}       the transaction
    anything else                           404 with the error envelope
where {prefix} is empty (bodies for our client) or /published (the same bodies as Trustly's
published file types them, for the default generator's client).

Usage: python bench/server.py BODY_DIR; BODY_DIR holds transaction.json, page.json,
error.json and optionally published/transaction.json and published/page.json. The server
prints its port, then serves until it is killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

NOT_FOUND_ID = b"404404404"
API = b"/api/v1/transactions"
PUBLISHED = b"/published"
_MAX_HEAD = 64 * 1024


def _response(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )


class Routes:
    """The encoded responses, chosen by request target."""

    def __init__(self, bodies: Path) -> None:
        error = _response(b"404 Not Found", (bodies / "error.json").read_bytes())
        self.not_found = error
        self.by_prefix: dict[bytes, tuple[bytes, bytes]] = {}
        for prefix, folder in ((b"", bodies), (PUBLISHED, bodies / "published")):
            if (folder / "transaction.json").is_file():
                self.by_prefix[prefix] = (
                    _response(b"200 OK", (folder / "transaction.json").read_bytes()),
                    _response(b"200 OK", (folder / "page.json").read_bytes()),
                )

    def answer(self, target: bytes) -> bytes:
        path = target.split(b"?", 1)[0]
        prefix = b""
        if path.startswith(PUBLISHED + b"/"):
            prefix, path = PUBLISHED, path[len(PUBLISHED) :]
        bodies = self.by_prefix.get(prefix)
        if bodies is None:
            return self.not_found
        if path == API:
            return bodies[1]
        if path.startswith(API + b"/"):
            ident = path[len(API) + 1 :]
            if ident and b"/" not in ident and ident != NOT_FOUND_ID:
                return bodies[0]
        return self.not_found


class _Connection(asyncio.Protocol):
    def __init__(self, routes: Routes) -> None:
        self._routes = routes
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        buffer = self._buffer + data if self._buffer else data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > _MAX_HEAD:
                    self._transport.close()
                    return
                break
            head = buffer[:end]
            length = 0
            lowered = head.lower()
            at = lowered.find(b"\r\ncontent-length:")
            if at >= 0:
                line_end = lowered.find(b"\r\n", at + 2)
                length = int(lowered[at + 17 : line_end if line_end >= 0 else None].strip())
            total = end + 4 + length
            if len(buffer) < total:
                break
            buffer = buffer[total:]
            parts = head.split(b" ", 2)
            target = parts[1] if len(parts) == 3 else b""
            self._transport.write(self._routes.answer(target))
            if b"\r\nconnection: close" in lowered:
                self._transport.close()
                return
        self._buffer = buffer

    # Flow control: stop reading requests while the client is not reading answers.
    def pause_writing(self) -> None:
        assert self._transport is not None
        self._transport.pause_reading()

    def resume_writing(self) -> None:
        assert self._transport is not None
        self._transport.resume_reading()


async def serve(bodies: Path, ready: asyncio.Future[int] | None = None) -> None:
    """Serve until cancelled; the port goes to `ready` (or to stdout when None)."""
    routes = Routes(bodies)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(routes), "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    if ready is None:
        print(port, flush=True)
    else:
        ready.set_result(port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1])))
