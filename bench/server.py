"""A minimal keep-alive HTTP/1.1 server for the benchmarks: every GET gets the same JSON body.

It runs in its own process so that it does not compete with the measured client for the GIL.
Usage: python bench/server.py BODY_FILE; prints the port, then serves until killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


async def main(body: bytes) -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(response)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]).read_bytes()))
