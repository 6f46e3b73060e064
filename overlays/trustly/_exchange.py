"""One attempt through the httpx backend: the request built and sent, the answer read under checks.

The sender's httpx client is one of its own (`StatelessClient`, `StatelessAsyncClient`): it keeps
no cookies, follows no redirects, has no event hooks and authenticates with `BasicAuth`. What
`httpx.Client.send` adds around the transport (the auth and redirect loops, cookie handling,
hooks) then does nothing, and what `build_request` merges is known: the client's headers, which
do not change between calls. So such a request is built from those headers, prepared once per
client, and handed to the transport httpx would choose for its URL (the pool, or a proxy mounted
for it). A client configured any other way goes through `build_request` and `send` unchanged.
Both ways give the same method, URL, headers (in the same order) and body
(tests/unit/test_exchange.py).

The answer is read whole, within the call's size cap and deadline, before the sender decides
what it means.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from ._auth import BasicAuth
from ._call import _Call
from ._settings import StatelessAsyncClient, StatelessClient

__all__ = ["build", "read", "read_async", "request_arguments", "send", "send_async"]

# Arguments of `build_request` the direct build handles; any other (files, cookies) goes to httpx.
_DIRECT_KEYS = frozenset({"method", "url", "params", "content", "data", "json", "headers", "extensions"})

# Methods for which httpx adds no Content-Length to a request without a body.
_BODILESS = frozenset({"GET", "DELETE"})
_BODILESS_KEYS = frozenset({"method", "url", "params", "extensions"})
_NO_BODY = httpx.ByteStream(b"")

_httpx_logger = logging.getLogger("httpx")


class _Prepared:
    """What a client adds to every request, for as long as its headers and auth are the same objects.

    `bodiless` is the header list httpx builds for a GET or DELETE without a body (Host, then
    the client's headers); `BasicAuth.apply` then adds Authorization and the correlation id.
    """

    __slots__ = ("auth", "bodiless", "source")

    def __init__(self, client: httpx.Client | httpx.AsyncClient, auth: BasicAuth) -> None:
        self.source = client.headers  # httpx replaces this object whenever the headers are set
        self.auth = auth
        self.bodiless = httpx.Request("GET", client.base_url, headers=client.headers).headers


def _direct_auth(client: httpx.Client | httpx.AsyncClient) -> _Prepared | None:
    """The prepared headers of a client the direct path can send through, or None."""
    if not isinstance(client, StatelessClient | StatelessAsyncClient):
        return None
    auth = client.auth
    if type(auth) is not BasicAuth or client.follow_redirects or client.params:
        return None
    hooks = client.event_hooks
    if hooks["request"] or hooks["response"]:
        return None
    prepared: _Prepared | None = client.__dict__.get("_trustly_prepared")
    if prepared is None or prepared.source is not client.headers or prepared.auth is not auth:
        prepared = client.__dict__["_trustly_prepared"] = _Prepared(client, auth)
    return prepared


def build(
    client: httpx.Client | httpx.AsyncClient, arguments: dict[str, Any], timeout: httpx.Timeout
) -> tuple[httpx.Request, bool]:
    """The request `arguments` describe (what `build_request` takes), and whether to send it directly.

    A direct request already carries its Authorization and correlation id; any other is built by
    httpx and must go through `client.send`, which adds them.
    """
    prepared = None
    if type(arguments["url"]) is httpx.URL and arguments.keys() <= _DIRECT_KEYS:
        prepared = _direct_auth(client)
    if prepared is None:
        return client.build_request(**arguments, timeout=timeout), False
    extensions = {**(arguments.get("extensions") or {}), "timeout": timeout.as_dict()}
    method = arguments["method"].upper()
    if method in _BODILESS and arguments.keys() <= _BODILESS_KEYS:
        # No body and no header of its own: httpx would add nothing to the prepared headers, so
        # they are given whole (a stream, so that httpx does not derive them again).
        request = httpx.Request(
            method,
            arguments["url"],
            params=arguments.get("params"),
            headers=prepared.bodiless,
            extensions=extensions,
            stream=_NO_BODY,
        )
        request.read()  # `request.content` is b"", as for any request httpx builds
        prepared.auth.apply(request)
        return request, True
    headers = client.headers
    extra = arguments.get("headers")
    if extra:
        headers = httpx.Headers(headers)
        headers.update(extra)
    request = httpx.Request(
        method,
        arguments["url"],
        params=arguments.get("params"),
        content=arguments.get("content"),
        data=arguments.get("data"),
        json=arguments.get("json"),
        headers=headers,
        extensions=extensions,
    )
    prepared.auth.apply(request)
    return request, True


def _sent(request: httpx.Request, response: httpx.Response) -> None:
    response.request = request
    if _httpx_logger.isEnabledFor(logging.INFO):  # the line httpx logs for each request it sends
        _httpx_logger.info(
            'HTTP Request: %s %s "%s %d %s"',
            request.method,
            request.url,
            response.http_version,
            response.status_code,
            response.reason_phrase,
        )


def send(client: httpx.Client, request: httpx.Request) -> httpx.Response:
    """Send a request `build` made directly through the transport httpx would use; the body is unread."""
    if client.is_closed:
        raise RuntimeError("Cannot send a request, as the client has been closed.")
    try:
        response = client._transport_for_url(request.url).handle_request(request)
    except httpx.RequestError as exc:
        exc.request = request  # as httpx's client does
        raise
    _sent(request, response)
    return response


async def send_async(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """`send` for an async client."""
    if client.is_closed:
        raise RuntimeError("Cannot send a request, as the client has been closed.")
    try:
        response = await client._transport_for_url(request.url).handle_async_request(request)
    except httpx.RequestError as exc:
        exc.request = request
        raise
    _sent(request, response)
    return response


# -- reading the answer -------------------------------------------------------------------------


class _CheckedStream(httpx.SyncByteStream):
    """The body of an answer sent without Content-Encoding, checked chunk by chunk as it arrives.

    With no Content-Encoding the bytes on the wire are the body, so the size cap and the
    deadline are checked on the transport's own stream, and httpx's `read()` keeps the body in
    the response: no second response object is built.
    """

    __slots__ = ("_call", "_response", "_stream")

    def __init__(self, stream: Any, call: _Call, response: httpx.Response) -> None:
        self._stream, self._call, self._response = stream, call, response

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        for chunk in self._stream:
            received += len(chunk)
            self._call.check_chunk(self._response, received, downloaded=received)
            yield chunk

    def close(self) -> None:
        self._stream.close()


class _AsyncCheckedStream(httpx.AsyncByteStream):
    """`_CheckedStream` for async clients."""

    __slots__ = ("_call", "_response", "_stream")

    def __init__(self, stream: Any, call: _Call, response: httpx.Response) -> None:
        self._stream, self._call, self._response = stream, call, response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = 0
        async for chunk in self._stream:
            received += len(chunk)
            self._call.check_chunk(self._response, received, downloaded=received)
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


def _answer(response: httpx.Response, body: bytes) -> httpx.Response:
    """The answer with its body read, ready for `response.json()`.

    The body is already decoded, so Content-Encoding is left out: reading it again must not
    decode it twice.
    """
    headers: httpx.Headers | list[tuple[str, str]] = response.headers
    if "content-encoding" in response.headers:
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
    return httpx.Response(
        response.status_code, headers=headers, content=body, request=response.request, extensions=response.extensions
    )


def _declared_length(call: _Call, response: httpx.Response) -> None:
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > call.policy.max_response_bytes:
        call.check_chunk(response, int(length))


def read(call: _Call, response: httpx.Response) -> httpx.Response:
    """A streamed answer read whole under `call`'s size cap and deadline, then closed.

    An answer without Content-Encoding is read into `response` itself; an encoded one is decoded
    chunk by chunk, the cap applying to the decoded bytes.
    """
    try:
        _declared_length(call, response)
        if "content-encoding" not in response.headers:
            response.stream = _CheckedStream(response.stream, call, response)
            response.read()
            return response
        chunks: list[bytes] = []
        received = 0
        for chunk in response.iter_bytes():
            received += len(chunk)
            call.check_chunk(response, received)
            chunks.append(chunk)
    finally:
        response.close()
    return _answer(response, b"".join(chunks))


async def read_async(call: _Call, response: httpx.Response) -> httpx.Response:
    """`read` for an async answer; both async backends read through it."""
    try:
        _declared_length(call, response)
        if "content-encoding" not in response.headers:
            response.stream = _AsyncCheckedStream(response.stream, call, response)
            await response.aread()
            return response
        chunks: list[bytes] = []
        received = 0
        async for chunk in response.aiter_bytes():
            received += len(chunk)
            call.check_chunk(response, received)
            chunks.append(chunk)
    finally:
        await response.aclose()
    return _answer(response, b"".join(chunks))


# -- the URL ------------------------------------------------------------------------------------


def request_arguments(client: httpx.Client | httpx.AsyncClient, request: dict[str, Any]) -> dict[str, Any]:
    """The request's arguments for `build`, its path joined to the base URL here.

    httpx would parse the relative path, then parse it again joined to the base URL. A path of
    characters httpx keeps as they are (the generated code quotes every id) is joined to the
    base URL's parsed parts with no parse at all; any other path is joined as text and parsed
    once. Either way the URL is the one httpx builds (tests/unit/test_request_url.py).
    """
    url = request["url"]
    # Only a rooted path is joined here ("//host" is a URL of its own; httpx drops a fragment).
    if not isinstance(url, str) or url[:1] != "/" or url[1:2] == "/" or "#" in url:
        return request
    base = client.base_url
    if base.query or base.fragment:  # httpx would join the path after them
        return request
    joined = _joined(base, url)
    if joined is None:
        prefix = str(base)  # "https://host/api/v1/", or "http://host:8080" with no path at all
        joined = httpx.URL(prefix + url[1:] if prefix.endswith("/") else prefix + url)
    return {**request, "url": joined}


# The characters httpx leaves as they are in a path, and complete percent-escapes. A dot
# segment ("/." or "/..") is left to httpx, which removes it.
_KEPT_PATH = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*")


def _joined(base: httpx.URL, path: str) -> httpx.URL | None:
    """`path` joined to `base` without parsing, or None when httpx would change the text.

    A URL parse is a third of what a small call costs the client; building the URL from the
    base's parsed parts skips it. It relies on httpx keeping those parts in `_uri_reference`
    (httpx is pinned below 0.29; a test fails if this path stops being taken).
    """
    reference: Any = getattr(base, "_uri_reference", None)
    base_path = getattr(reference, "path", None)
    if base_path == "":  # "http://host:8080": no path at all
        base_path = "/"
    if not isinstance(base_path, str) or not base_path.endswith("/") or "/." in path:
        return None
    if _KEPT_PATH.fullmatch(path) is None:
        return None
    url = httpx.URL.__new__(httpx.URL)
    url._uri_reference = reference._replace(path=base_path + path[1:])
    return url
