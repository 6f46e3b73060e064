"""The aiohttp backend of `AsyncTrustlyClient` (`backend="aiohttp"`, the `aiohttp` extra).

httpx's async connection pool costs CPU for every request it serves and more for every request
waiting on it; aiohttp's is several times cheaper. This backend sends through one
`aiohttp.ClientSession` per event loop and changes nothing else: the request carries the URL,
headers and body httpx builds (a plain GET or DELETE is joined as text with headers taken once
from httpx's build; any other is built by httpx), the answer is read under the same size cap and
call deadline rules (`_Call.check_received`) into one `httpx.Response`, httpx decodes any
Content-Encoding, and each aiohttp failure is mapped to the httpx exception that names the same
event, which the sender classifies as it does on the default backend:

- "not sent": aiohttp could not get a connection (refused, DNS, TLS verification, an
  unreachable proxy, no pooled connection in time) -> httpx.ConnectError / ConnectTimeout;
- "may have arrived": the connection failed after the request was handed to it (reset, server
  disconnect, read timeout, a truncated or unparsable answer) -> ReadError, ReadTimeout,
  RemoteProtocolError, WriteError;
- refused by the client itself: a proxy that refuses the tunnel, a URL aiohttp will not send to
  -> ProxyError, UnsupportedProtocol.

httpx-aiohttp (an httpx transport over aiohttp) is not used: its exception map turns a server
disconnect or a connection reset after the request was written into httpx.ConnectTimeout, which
says "not sent" and would let an unsafe money-moving request be sent twice; and it keeps
httpx.AsyncClient.send (auth flow, redirect and hook machinery) on every request.

Timeouts: aiohttp's `sock_connect` is httpx's connect timeout and `sock_read` its read timeout
(both per socket operation, like httpx's); aiohttp's `connect` bounds getting a connection,
pool wait included, by the larger of httpx's pool and connect timeouts. aiohttp has no write
timeout: request bodies are a few KB and the read timeout starts once they are written.
Proxies are chosen by httpx's own rules from the same environment variables, so both backends
use the same proxy for the same base URL (and none for a loopback one).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx

from ._auth import CORRELATION_EXTENSION, CORRELATION_HEADER, without_key_frames
from ._errors import ConfigurationError
from ._settings import Settings, StatelessAsyncClient

if TYPE_CHECKING:
    from ._call import _Call

__all__ = ["AiohttpClient", "Outgoing", "check_aiohttp", "proxy_for"]

EXTRA_HINT = 'install the aiohttp extra: pip install "trustly-api-client[aiohttp]"'


def check_aiohttp() -> None:
    """Raise ConfigurationError naming the extra when aiohttp cannot be imported."""
    try:
        import aiohttp  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(f'backend="aiohttp" needs aiohttp ({exc}): {EXTRA_HINT}') from None


def proxy_for(url: httpx.URL, trust_env: bool) -> str | None:
    """The proxy httpx would send a request for `url` through, from the environment."""
    if not trust_env:
        return None
    # httpx's own rules (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY and their precedence), so
    # that the backends cannot disagree about where credentials travel.
    from httpx._utils import URLPattern, get_environment_proxies

    mounts = sorted((URLPattern(pattern), proxy) for pattern, proxy in get_environment_proxies().items())
    for pattern, proxy in mounts:
        if pattern.matches(url):
            if proxy is not None and not proxy.lower().startswith(("http://", "https://")):
                raise ConfigurationError(
                    f"the proxy {proxy.split('@')[-1]!r} for {url.host} is not an HTTP proxy, which the aiohttp "
                    'backend cannot use: use backend="httpx" (with httpx[socks] for SOCKS) or unset it'
                )
            return proxy
    return None


def _error_map() -> tuple[tuple[type[BaseException], type[httpx.RequestError]], ...]:
    import aiohttp

    # First match wins: subclasses before their bases.
    return (
        (aiohttp.ClientHttpProxyError, httpx.ProxyError),  # the proxy refused the tunnel
        (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),  # no connection in time (pool or connect)
        (aiohttp.ClientConnectorError, httpx.ConnectError),  # refused, DNS, TLS verification, proxy down
        (aiohttp.ServerTimeoutError, httpx.ReadTimeout),  # sock_read (SocketTimeoutError)
        (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
        (aiohttp.ClientConnectionResetError, httpx.WriteError),  # the request was being written
        (aiohttp.ClientOSError, httpx.ReadError),  # reset on an established connection
        (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),  # the body ended early or is malformed
        (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
        (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
        (aiohttp.TooManyRedirects, httpx.TooManyRedirects),
        (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # a status line or headers it cannot parse
        (aiohttp.ClientConnectionError, httpx.ReadError),  # any other connection failure: may have arrived
    )


def _describe(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"
    except Exception:  # an exception whose str() fails must still be reported, by its type
        return type(exc).__name__


# Characters a generated path may hold as it is: every path parameter is percent-encoded by the
# generated code, so anything else (a space, a non-ASCII letter) goes through httpx's URL rules.
_PLAIN_PATH = re.compile(r"/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*")
_PLAIN_KEYS = frozenset({"method", "url", "extensions"})
_BODILESS = frozenset({"GET", "DELETE", "HEAD", "OPTIONS"})  # httpx gives the others Content-Length: 0
_CORRELATION_NAME = CORRELATION_HEADER.lower()  # as httpx's Headers.multi_items() names it


class Outgoing:
    """A request as this backend sends it: method, URL, headers (authenticated) and body.

    What the sender hands to `AiohttpClient.exchange`. The `httpx.Request` it stands for is
    built only when something asks for it (an error names its request).
    """

    __slots__ = ("_request", "content", "headers", "method", "timeout", "url")

    def __init__(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        content: bytes | None,
        timeout: Any,
        request: httpx.Request | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.content = content
        self.timeout = timeout  # an aiohttp.ClientTimeout
        self._request = request

    @property
    def request(self) -> httpx.Request:
        if self._request is None:
            self._request = httpx.Request(self.method, self.url, headers=self.headers, content=self.content)
        return self._request


class _Body(httpx.AsyncByteStream):
    """An aiohttp answer's raw (still encoded) body, as httpx reads a stream."""

    __slots__ = ("_client", "_request", "_response")

    def __init__(self, client: AiohttpClient, response: Any, request: httpx.Request) -> None:
        self._client = client
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except Exception as exc:
            raise self._client.failure(exc, self._request)  # noqa: B904 - its cause is set, its frames dropped

    async def aclose(self) -> None:
        response = self._response
        if response.content.is_eof():
            response.release()  # read to the end: the connection goes back to the pool
        else:
            response.close()  # abandoned mid-body (too large, past the deadline): never reused


class AiohttpClient(StatelessAsyncClient):
    """An httpx.AsyncClient whose `send` goes through an aiohttp.ClientSession (and keeps no cookies).

    One per event loop (see `_pool.AsyncPool`); `aclose()` closes the session. Requests are built
    and authenticated exactly as on the default backend; only the bytes travel by aiohttp.
    """

    def __init__(self, settings: Settings, proxy: str | None) -> None:
        import aiohttp

        super().__init__(**settings.httpx_kwargs())
        limits = settings.limits
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            limit_per_host=0,
            ssl=settings.ssl_context,
            keepalive_timeout=limits.keepalive_expiry if limits.keepalive_expiry is not None else 15.0,
        )
        self._aio_session = aiohttp.ClientSession(
            connector=connector,
            # httpx decodes Content-Encoding, with the same decoders and errors as the default backend.
            auto_decompress=False,
            trust_env=False,  # the proxy is chosen by httpx's rules, above
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent", "Accept-Encoding"),  # httpx's request already carries them
            **_session_options(),
        )
        # aiohttp resends a GET once, unseen, when a kept-alive connection fails; the sender
        # decides every resend itself (and counts it), as on the default backend.
        self._aio_session._retry_connection = False
        self._aio_proxy = proxy
        self._aio_errors = _error_map()
        self._aio_timeout_type = aiohttp.ClientTimeout
        self._aio_url = _yarl_url()
        self._aio_timeouts: dict[tuple[Any, ...], Any] = {}
        # What every request carries, taken once from httpx's own build of one (its default
        # headers, User-Agent, Host, Authorization): a plain request (a path, no query or body)
        # is then these plus its correlation id, with no httpx.Request built for it.
        base = self.base_url
        self._aio_prefix = None if base.query or base.fragment else str(base).rstrip("/")
        template = self.build_request("GET", "/")
        if self.auth is not None:
            next(self.auth.sync_auth_flow(template))
        self._aio_headers = template.headers.multi_items()

    def failure(self, exc: Exception, request: httpx.Request) -> Exception:
        """The httpx exception naming the same event as an aiohttp one (others as they are).

        aiohttp's frames are dropped from it and its causes: their locals hold the request's
        headers, Authorization included, in clear, and error reporters record frame locals.
        """
        error = exc
        for source, target in self._aio_errors:
            if isinstance(exc, source):
                error = target(_describe(exc), request=request)
                error.__cause__ = exc
                break
        return without_key_frames(error)

    def _aio_timeout(self, connect: float | None, read: float | None, pool: float | None) -> Any:
        key = (connect, read, pool)
        timeout = self._aio_timeouts.get(key)
        if timeout is None:
            acquire = None if connect is None or pool is None else max(connect, pool)
            timeout = self._aio_timeout_type(total=None, connect=acquire, sock_connect=connect, sock_read=read)
            if len(self._aio_timeouts) < 64:  # the policy's own timeout recurs; cut ones mostly do not
                self._aio_timeouts[key] = timeout
        return timeout

    def prepare(self, arguments: dict[str, Any], timeout: httpx.Timeout) -> Outgoing:
        """The authenticated request `arguments` describe (what `build_request` takes).

        A plain one (a GET or DELETE of a rooted path of already-encoded characters, no query) is joined
        to the base URL as text; any other is built by httpx, so both backends send the same
        URL, headers and body bytes (tests/overlay/test_aiohttp_backend.py compares them).
        """
        url = arguments["url"]
        method = str(arguments["method"]).upper()
        aio_timeout = self._aio_timeout(timeout.connect, timeout.read, timeout.pool)
        if (
            self._aio_prefix is not None
            and method in _BODILESS
            and arguments.keys() <= _PLAIN_KEYS
            and isinstance(url, str)
            and url[1:2] != "/"  # httpx joins "//x" as "/x"
            and "/." not in url  # httpx removes dot segments
            and _PLAIN_PATH.fullmatch(url)
        ):
            headers = list(self._aio_headers)
            correlation_id = (arguments.get("extensions") or {}).get(CORRELATION_EXTENSION)
            if correlation_id:
                headers.append((_CORRELATION_NAME, correlation_id))
            return Outgoing(method, self._aio_prefix + url, headers, None, aio_timeout)
        return self._outgoing(self.build_request(**arguments, timeout=timeout), aio_timeout)

    def _outgoing(self, request: httpx.Request, aio_timeout: Any = None) -> Outgoing:
        if self.auth is not None:
            next(self.auth.sync_auth_flow(request))  # Authorization and the correlation id
        if aio_timeout is None:
            parts = request.extensions.get("timeout") or {}
            aio_timeout = self._aio_timeout(parts.get("connect"), parts.get("read"), parts.get("pool"))
        content = request.content or None
        return Outgoing(request.method, str(request.url), request.headers.multi_items(), content, aio_timeout, request)

    async def _open(self, outgoing: Outgoing) -> Any:
        """Send `outgoing`; aiohttp's answer with its body still unread."""
        if self.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        try:
            return await self._aio_session.request(
                outgoing.method,
                self._aio_url(outgoing.url, encoded=True),  # encoded already; no second pass
                headers=outgoing.headers,
                data=outgoing.content,
                allow_redirects=False,
                timeout=outgoing.timeout,
                proxy=self._aio_proxy,
            )
        except Exception as exc:
            raise self.failure(exc, outgoing.request)  # noqa: B904 - its cause is set, its frames dropped

    def _streamed(self, answer: Any, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            stream=_Body(self, answer, request),
            request=request,
            extensions=_extensions(answer),
        )

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = None,
        follow_redirects: Any = None,
    ) -> httpx.Response:
        """Send `request` through aiohttp; the answer's body streams unless `stream` is False."""
        response = self._streamed(await self._open(self._outgoing(request)), request)
        if not stream:
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response

    async def exchange(self, outgoing: Outgoing, call: _Call) -> httpx.Response:
        """Send `outgoing` (from `prepare`) and read the whole answer under `call`'s size cap and deadline.

        The sender's path on this backend: the same checks as its read loop over an httpx
        stream (`_Call.check_received`), but the body comes straight from aiohttp's buffer into
        one `httpx.Response`, without a streamed response, a byte stream and a second response
        per call. An encoded answer still goes through httpx's decoders (and their errors).
        """
        answer = await self._open(outgoing)
        if "Content-Encoding" in answer.headers:
            return await self._read_encoded(answer, outgoing.request, call)
        declared = answer.headers.get("Content-Length", "")
        chunks: list[bytes] = []
        received = 0
        content = answer.content
        try:
            if declared.isdigit() and int(declared) > call.policy.max_response_bytes:
                call.check_received(int(declared), 0, declared, None)  # too large: raises
            while True:
                try:
                    chunk = await content.readany()
                except Exception as exc:
                    raise self.failure(exc, outgoing.request)  # noqa: B904 - its cause is set, its frames dropped
                if not chunk:
                    break
                received += len(chunk)
                call.check_received(received, received, declared, None)
                chunks.append(chunk)
        finally:
            if content.is_eof():
                answer.release()  # read to the end: the connection goes back to the pool
            else:
                answer.close()  # abandoned mid-body (too large, past the deadline): never reused
        return httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            content=b"".join(chunks),
            request=outgoing.request if outgoing._request is not None else None,
            extensions=_extensions(answer),
        )

    async def _read_encoded(self, answer: Any, request: httpx.Request, call: _Call) -> httpx.Response:
        from ._exchange import read_async

        return await read_async(call, self._streamed(answer, request))

    async def aclose(self) -> None:
        """Close the aiohttp session (and with it every connection) and this client."""
        try:
            await self._aio_session.close()
        finally:
            await super().aclose()


def _extensions(answer: Any) -> dict[str, Any]:
    return {"http_version": b"HTTP/1.1", "reason_phrase": (answer.reason or "").encode("latin-1")}


def _yarl_url() -> Any:
    from yarl import URL  # aiohttp's own URL type (a dependency of aiohttp)

    return URL


def _session_options() -> dict[str, Any]:
    """Extra `aiohttp.ClientSession` arguments; none in use (tests add middlewares here)."""
    return {}
