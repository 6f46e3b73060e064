"""The overlay layer's MockTransport handlers, served to the aiohttp backend.

An httpx.MockTransport cannot sit under aiohttp, so for `backend="aiohttp"` the same handler
answers through aiohttp's own request path: a client middleware (aiohttp's public hook around
each request) hands the handler the request as httpx would have built it, and

- an answer (`httpx.Response`) is written byte for byte, status line, headers (Content-Encoding
  and a lying Content-Length included) and body, by a real HTTP/1.1 server on 127.0.0.1, and read
  back by aiohttp as any answer is;
- an httpx transport exception is raised as the aiohttp exception aiohttp raises for the same
  event (`AIOHTTP_EVENT`): a refused connection, a connect or read timeout, a reset, a server
  that disconnects, a truncated body, a refusing proxy;
- any other exception (an OS, TLS, event-loop or programming error) is raised as it is.

So a test written once against a handler runs on both backends, and on aiohttp it exercises the
backend's mapping of aiohttp's exceptions back to what they say about the request.
"""

from __future__ import annotations

import inspect
import itertools
import threading
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
import httpx
from aiohttp.client_reqrep import ConnectionKey
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import trustly._aiohttp
from tests.conftest import BASE_URL

__all__ = ["AIOHTTP_EVENT", "bridged_base_url"]


def _request_info() -> aiohttp.RequestInfo:
    return aiohttp.RequestInfo(URL(BASE_URL), "CONNECT", CIMultiDictProxy(CIMultiDict()))


def _connector_error(exc: Exception) -> BaseException:
    key = ConnectionKey("127.0.0.1", 8765, False, True, None, None, None)
    return aiohttp.ClientConnectorError(key, OSError(111, f"Connect call failed: {exc}"))


AIOHTTP_EVENT: dict[type[httpx.TransportError], Callable[[Exception], BaseException]] = {
    # not sent
    httpx.ConnectError: _connector_error,
    httpx.ConnectTimeout: lambda exc: aiohttp.ConnectionTimeoutError(f"Connection timeout to host {BASE_URL}"),
    httpx.PoolTimeout: lambda exc: aiohttp.ConnectionTimeoutError(f"Connection timeout to host {BASE_URL}"),
    # refused by the client side
    httpx.ProxyError: lambda exc: aiohttp.ClientHttpProxyError(_request_info(), (), status=407, message="refused"),
    httpx.UnsupportedProtocol: lambda exc: aiohttp.NonHttpUrlClientError("ftp://127.0.0.1/"),
    httpx.LocalProtocolError: lambda exc: aiohttp.InvalidUrlClientError("http://[::1"),
    httpx.TooManyRedirects: lambda exc: aiohttp.TooManyRedirects(_request_info(), ()),
    # may have arrived
    httpx.ReadTimeout: lambda exc: aiohttp.SocketTimeoutError("Timeout on reading data from socket"),
    # aiohttp has no write timeout: a stalled write ends as its read timeout
    httpx.WriteTimeout: lambda exc: aiohttp.SocketTimeoutError("Timeout on reading data from socket"),
    httpx.ReadError: lambda exc: aiohttp.ClientOSError(104, "Connection reset by peer"),
    httpx.WriteError: lambda exc: aiohttp.ClientConnectionResetError("Cannot write to closing transport"),
    httpx.RemoteProtocolError: lambda exc: aiohttp.ServerDisconnectedError(),
    httpx.DecodingError: lambda exc: aiohttp.ClientPayloadError("Response payload is not completed"),
}
"""For each httpx transport exception, the aiohttp exception raised for the same network event."""


def _translated(exc: BaseException) -> BaseException:
    for cls in type(exc).__mro__:
        make = AIOHTTP_EVENT.get(cls)  # type: ignore[call-overload]
        if make is not None:
            return make(exc)  # type: ignore[arg-type]
    return exc


Handler = Callable[[httpx.Request], "httpx.Response | Awaitable[httpx.Response]"]

_handlers: dict[str, Handler] = {}
_answers: dict[str, tuple[httpx.Response, bytes]] = {}
_ids = itertools.count()
_lock = threading.Lock()
_server: ThreadingHTTPServer | None = None


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        response, body = _answers.pop(self.headers.get("X-Bridge-Answer", ""))
        head = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}".encode()]
        head += [name + b": " + value for name, value in response.headers.raw]
        self.wfile.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        declared = response.headers.get("Content-Length")
        if declared is None or int(declared) != len(body):
            self.close_connection = True  # the body ends where the connection does

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer


def _port() -> int:
    global _server
    with _lock:
        if _server is None:
            _server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
            _server.daemon_threads = True
            threading.Thread(target=_server.serve_forever, daemon=True).start()
        return int(_server.server_address[1])


async def _middleware(request: aiohttp.ClientRequest, send: Any) -> aiohttp.ClientResponse:
    path = request.url.raw_path
    prefix, _, rest = path.lstrip("/").partition("/")
    handler = _handlers.get(prefix)
    if handler is None:
        return await send(request)  # type: ignore[no-any-return]
    query = request.url.raw_query_string
    url = httpx.URL(BASE_URL).copy_with(raw_path=("/" + rest + (f"?{query}" if query else "")).encode())
    body = request.body
    content = await body.as_bytes() if not isinstance(body, bytes) else body
    headers = [(k, v) for k, v in request.headers.items() if k.lower() != "host"]
    as_httpx = httpx.Request(request.method, url, headers=headers, content=content)
    try:
        answer = handler(as_httpx)
        if inspect.isawaitable(answer):
            answer = await answer
    except Exception as exc:
        raise _translated(exc) from exc
    assert isinstance(answer, httpx.Response)
    raw = b"".join(answer.stream)  # type: ignore[arg-type]  # as sent: still gzip-encoded where it says so
    key = str(next(_ids))
    _answers[key] = (answer, raw)
    request.headers["X-Bridge-Answer"] = key
    return await send(request)  # type: ignore[no-any-return]


def _session_options() -> dict[str, Any]:
    return {"middlewares": (_middleware,)}


def bridged_base_url(handler: Handler) -> str:
    """A base URL whose requests reach `handler` through the aiohttp backend."""
    trustly._aiohttp._session_options = _session_options  # type: ignore[attr-defined]
    key = f"bridge{next(_ids)}"
    _handlers[key] = handler
    return f"http://127.0.0.1:{_port()}/{key}/api/v1"
