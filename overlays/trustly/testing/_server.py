"""`SimulatorServer`: the simulator on a real HTTP/1.1 socket on 127.0.0.1, plain or TLS.

A small asyncio server in a background thread, written for the simulator rather than taken
from a framework, because fault injection must be able to cut a connection at exactly the
right moment (before or after the request was applied), to stall an answer or to drip it.

A malformed request (a bad Content-Length, an oversized head, a body nested too deep to read)
gets a 400-class answer and the connection is closed; a request head that does not arrive
within `head_timeout` seconds gets 408. No request can end a connection task with an
unhandled exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import threading
from http import HTTPStatus
from typing import Any

from ._simulator import Reply, Simulator

__all__ = ["SimulatorServer"]

MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024
HEAD_TIMEOUT = 30.0


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class SimulatorServer:
    """Serve a `Simulator` on 127.0.0.1 until `stop()` (or the end of a `with` block).

    Args:
        simulator: The simulator to serve.
        port: 0 picks a free port.
        tls: Serve HTTPS with a certificate from a throwaway CA (needs the `trustme` package);
            give clients `server.client_ssl_context()`.
        head_timeout: Seconds a connection may take to send a request head (idle keep-alive
            connections included) before it is answered 408 and closed.
    """

    def __init__(
        self, simulator: Simulator, *, port: int = 0, tls: bool = False, head_timeout: float = HEAD_TIMEOUT
    ) -> None:
        self.simulator = simulator
        self.head_timeout = head_timeout
        self._port = port
        self._tls = tls
        self._ca: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.open_connections = 0
        self.requests = 0

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The API root to give a client: `http(s)://127.0.0.1:PORT/api/v1`."""
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self._port}/api/v1"

    def client_ssl_context(self) -> ssl.SSLContext:
        """An SSLContext that trusts this server's throwaway CA (TLS servers only)."""
        if self._ca is None:
            raise RuntimeError("this server does not use TLS")
        context = ssl.create_default_context()
        self._ca.configure_trust(context)
        return context

    def ca_pem(self) -> bytes:
        """The PEM certificate of this server's throwaway CA (TLS servers only), for a CA bundle file.

        Give its path to a client as `verify=` (or to the `trustly` command as TRUSTLY_CA_BUNDLE).
        """
        if self._ca is None:
            raise RuntimeError("this server does not use TLS")
        pem: bytes = self._ca.cert_pem.bytes()
        return pem

    def start(self) -> SimulatorServer:
        """Start serving in a background thread; return self once the socket listens."""
        server_context = None
        if self._tls:
            import trustme

            self._ca = trustme.CA()
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
        self._thread = threading.Thread(target=self._run, args=(server_context,), name="trustly-simulator", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError(f"the simulator server did not start: {self._error}") from self._error
        self.simulator.served_at(self.base_url.removesuffix("/api/v1"))
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        loop = self._loop
        if loop is not None and self._thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(timeout=10)
        self._loop = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, context: ssl.SSLContext | None) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(self._connection, "127.0.0.1", self._port, ssl=context, backlog=2048)
            )
            self._port = self._server.sockets[0].getsockname()[1]
        except BaseException as error:  # report to start()
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.gather(*asyncio.all_tasks(loop), return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    # -- HTTP ------------------------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        try:
            while True:
                try:
                    request = await self._read_request(reader)
                except _Refused as refused:
                    writer.write(_encode(_refusal(refused.status, str(refused)), keep_alive=False))
                    await writer.drain()
                    return
                if request is None:
                    return
                method, target, headers, body = request
                self.requests += 1
                reply = self._answer(method, target, headers, body)
                keep_alive = headers.get("connection", "").lower() != "close"
                fault = reply.fault
                if fault is not None and fault.kind in ("drop_before", "drop_after"):
                    writer.transport.abort()
                    return
                if fault is not None and fault.kind == "delay":
                    await asyncio.sleep(fault.seconds)
                if fault is not None:
                    reply.status, reply.headers, reply.body = fault.disguise(reply.status, reply.headers, reply.body)
                data = _encode(reply, keep_alive=keep_alive)
                if fault is not None and fault.paced:
                    for piece, pause in fault.pieces(data, len(data) - len(reply.body)):
                        writer.write(piece)
                        await writer.drain()
                        if pause:
                            await asyncio.sleep(pause)
                    return
                writer.write(data)
                await writer.drain()
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, asyncio.LimitOverrunError):
            return
        except asyncio.CancelledError:
            return  # the server is stopping
        finally:
            # The socket is closed on a later turn of the loop: count the connection as open
            # until it is, so that `open_connections == 0` means no descriptor is left.
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self.open_connections -= 1

    def _answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        try:
            return self.simulator.handle(method, target, headers, body)
        except RecursionError:
            return _refusal(400, "the request body is nested too deeply to read")
        except Exception as error:
            return _refusal(500, f"simulator error: {type(error).__name__}: {error}", code=100)

    async def _read_request(self, reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes] | None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.head_timeout)
        except asyncio.IncompleteReadError:
            return None
        except TimeoutError:
            raise _Refused(408, "no complete request head arrived in time") from None
        except asyncio.LimitOverrunError:
            raise _Refused(431, "the request head is too large") from None
        if len(head) > MAX_HEAD:
            raise _Refused(431, "the request head is too large")
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            raise _Refused(400, "malformed request line") from None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "transfer-encoding" in headers:
            if headers["transfer-encoding"].lower() != "chunked":
                raise _Refused(400, f"unsupported Transfer-Encoding {headers['transfer-encoding'][:20]!r}")
            return method, target, headers, await _read_chunked(reader)
        raw_length = headers.get("content-length", "0").strip() or "0"
        if not raw_length.isdigit():
            raise _Refused(400, f"bad Content-Length {raw_length[:20]!r}")
        length = int(raw_length)
        if length > MAX_BODY:
            raise _Refused(413, f"request bodies are limited to {MAX_BODY} bytes")
        body = await reader.readexactly(length) if length else b""
        return method, target, headers, body


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _Refused(400, "malformed chunk size") from None
        if size < 0 or len(body) + size > MAX_BODY:
            raise _Refused(413, f"request bodies are limited to {MAX_BODY} bytes")
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, ignored
                pass
            return bytes(body)
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise _Refused(400, "malformed chunk")


def _refusal(status: int, message: str, code: int = 200) -> Reply:
    body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
    return Reply(status, body, {"Content-Type": "application/json"})


def _encode(reply: Reply, *, keep_alive: bool) -> bytes:
    try:
        reason = HTTPStatus(reply.status).phrase
    except ValueError:
        reason = "Unknown"
    headers = {**reply.headers, "Content-Length": str(len(reply.body))}
    headers["Connection"] = "keep-alive" if keep_alive else "close"
    head = f"HTTP/1.1 {reply.status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("latin-1") + reply.body
