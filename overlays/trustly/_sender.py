"""How one logical call becomes one or more HTTP attempts, and why nothing untyped escapes it.

The generated facade hands the sender an operation id, the generated function that builds the
request and the caller's arguments. The sender builds and checks the request, adds a
correlation id, sends through the client's pooled httpx client, reads the answer within the
size cap and the call's deadline, retries only where retrying cannot move money twice, and
decides with `_call._Call` what each outcome means.

The invariant, enforced once in `send` (sync and async) rather than per exception: a call ends
with the decoded result, a `TrustlyError` raised before anything was sent, an
`AmbiguousOutcomeError` for a money-moving request that may have arrived, or a typed error
after a final answer. Any other exception is mapped by how far the call got (`Phase`).
Cancellation (and KeyboardInterrupt) propagates as it is; when it interrupts a money-moving
request that may have arrived, the `AmbiguousOutcomeError` is chained to it as its cause and
logged as a warning on the `trustly` logger. Every `AmbiguousOutcomeError`, raised or chained,
also goes to the client's `on_ambiguous` hook, once, before it propagates.
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from trustly_api_client.operations import OPERATIONS, Operation, RetryClass
from trustly_api_client.types import InvalidFieldError

from . import _logging
from ._auth import CORRELATION_EXTENSION
from ._call import CallPolicy, Completer, NeedsLookup, Phase, _Call
from ._errors import (
    AmbiguousOutcomeError,
    InvalidRequestError,
    ResponseTooLargeError,
    ResponseValidationError,
    TrustlyError,
)
from ._validation import check_path_arguments

if TYPE_CHECKING:
    from ._aiohttp import Outgoing

__all__ = ["AsyncSender", "InFlightLimit", "SyncSender", "decode", "read_checked"]

T = TypeVar("T")

Build = Callable[..., dict[str, Any]]
Lookup = Callable[[Operation, dict[str, Any], str, float], httpx.Response | None]
AsyncLookup = Callable[[Operation, dict[str, Any], str, float], Awaitable[httpx.Response | None]]


def _start(
    operation_id: str, build: Build, arguments: dict[str, Any], policy: CallPolicy, complete: Completer | None
) -> _Call:
    op = OPERATIONS.get(operation_id)
    if op is None:
        raise InvalidRequestError("operation_id", f"{operation_id!r} is not an operation of this API")
    check_path_arguments(op, arguments)
    return _Call(operation_id, build(**arguments), policy, complete)


def _untyped(operation_id: str, call: _Call | None, exc: Exception) -> TrustlyError:
    if call is None:  # the request could not even be built: nothing was sent
        return InvalidRequestError(operation_id, f"cannot be sent: {type(exc).__name__}: {exc}")
    return call.unexpected(exc)


def _interrupted(call: _Call | None, exc: BaseException) -> None:
    """Report a money-moving request that may have arrived when the caller cancels the call."""
    if call is None or call.op.retry is RetryClass.SAFE:
        return
    if call.phase is Phase.PREPARING and not call.maybe_applied:
        return
    ambiguous = call.ambiguous(f"the call was interrupted ({type(exc).__name__}) after the request may have arrived")
    _logging.log_call_end(call, None, ambiguous)
    if exc.__cause__ is None:
        exc.__cause__ = ambiguous
    exc.add_note(str(ambiguous))
    _report(call, ambiguous)


def _report(call: _Call | None, error: TrustlyError) -> None:
    """Hand an ambiguous outcome to the client's `on_ambiguous` hook, if it has one.

    The hook cannot change how the call ends: whatever it raises is logged and dropped, so the
    caller still gets the `AmbiguousOutcomeError` (or the cancellation carrying it).
    """
    if call is None or not isinstance(error, AmbiguousOutcomeError):
        return
    hook = call.policy.on_ambiguous
    if hook is None:
        return
    try:
        hook(error)
    except Exception:
        _logging.logger.exception("on_ambiguous raised while handling %s", error.correlation_id)


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


async def read_checked(call: _Call, response: httpx.Response) -> httpx.Response:
    """A streamed async answer read whole under `call`'s size cap and deadline, then closed.

    Shared by both async backends. An answer without Content-Encoding is read into `response`
    itself; an encoded one is decoded chunk by chunk, the cap applying to the decoded bytes.
    """
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


def _request_arguments(client: httpx.Client | httpx.AsyncClient, request: dict[str, Any]) -> dict[str, Any]:
    """The request's arguments for `build_request`, its path joined to the base URL here.

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


def _declared_length(call: _Call, response: httpx.Response) -> None:
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > call.policy.max_response_bytes:
        call.check_chunk(response, int(length))


def decode(operation_id: str, response: httpx.Response, decoder: Callable[[Any], T]) -> T:
    """Decode a 2xx body with the generated model's `from_dict`; every failure is typed.

    Whatever the JSON parser or the model layer raises (a malformed value, nesting that
    exhausts the stack, an integer too long to convert), the caller gets a
    `ResponseValidationError` that keeps the body.
    """
    correlation_id = response.extensions.get(CORRELATION_EXTENSION)
    # Decoding builds many small objects and no cycles (a page of 100 transactions: thousands),
    # so the cyclic collector, triggered by their number, would walk the heap for nothing: a
    # quarter of the time a page takes. It is paused for this step only, and only if it runs.
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        return decoder(response.json())
    except Exception as exc:
        raise ResponseValidationError(
            f"the {response.status_code} response body does not fit its model: {type(exc).__name__}: {exc}",
            operation_id=operation_id,
            body=response.content,
            correlation_id=correlation_id,
        ) from exc
    finally:
        if collecting:
            gc.enable()


class SyncSender:
    """The `Sender` behind `TrustlyClient`."""

    def __init__(
        self,
        get_client: Callable[[], httpx.Client],
        policy: CallPolicy,
        lookup: Lookup | None = None,
        complete: Completer | None = None,
    ) -> None:
        self._get_client = get_client
        self._policy = policy
        self.lookup = lookup
        self._complete = complete

    def send(self, operation_id: str, build: Build, /, **arguments: Any) -> httpx.Response:
        call: _Call | None = None
        try:
            call = _start(operation_id, build, arguments, self._policy, self._complete)
            return self._send(call)
        except TrustlyError as error:
            _report(call, error)
            raise
        except Exception as exc:
            untyped = _untyped(operation_id, call, exc)
            _report(call, untyped)
            raise untyped from exc
        except BaseException as exc:
            _interrupted(call, exc)
            raise

    def _send(self, call: _Call) -> httpx.Response:
        client = self._get_client()
        arguments = _request_arguments(client, call.request)
        while True:
            timeout = call.next_timeout()
            request = client.build_request(**arguments, timeout=timeout)
            call.phase = Phase.IN_FLIGHT
            delay: float | None
            try:
                try:
                    response = self._attempt(client, call, request)
                except (httpx.RequestError, ResponseTooLargeError) as exc:
                    delay = call.on_exception(exc)
                else:
                    delay = call.on_response(response)
            except NeedsLookup as lookup:
                return self._look_up(call, lookup)
            if delay is None:
                return call.finish(response)
            time.sleep(delay)

    @staticmethod
    def _attempt(client: httpx.Client, call: _Call, request: httpx.Request) -> httpx.Response:
        # Every socket operation of this attempt ends by the call's deadline (see _deadline).
        # Imported here, not at the top: _deadline imports httpcore, which `import trustly`
        # should not pay for (httpx itself loads it with the first client).
        from ._deadline import attempt_deadline, end_attempt

        token = attempt_deadline(call.remaining())
        try:
            response = client.send(request, stream=True)
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
        finally:
            end_attempt(token)
        return _answer(response, b"".join(chunks))

    def _look_up(self, call: _Call, lookup: NeedsLookup) -> httpx.Response:
        call.phase = Phase.LOOKING_UP
        remaining = call.remaining()
        found: httpx.Response | None = None
        if self.lookup is not None and remaining > 0:
            try:
                found = self.lookup(call.op, call.request, call.correlation_id, remaining)
            except TrustlyError as failure:
                raise call.unresolved(lookup, failure) from None
        if found is None:
            raise call.unresolved(lookup) from None
        return call.finish(found)

    def parse(self, operation_id: str, response: httpx.Response, decoder: Callable[[Any], T]) -> T:
        return decode(operation_id, response, decoder)

    def invalid(self, operation_id: str, error: InvalidFieldError) -> InvalidRequestError:
        return InvalidRequestError(error.field, error.reason)


async def _async_sleep(seconds: float) -> None:
    # asyncio is imported here, not at the top: `import trustly` should not pay for it.
    import asyncio

    await asyncio.sleep(seconds)


class InFlightLimit:
    """At most `limit` requests of an async client inside its connection pool at once.

    httpx's async pool does work for every waiting request whenever a connection frees up, so a
    burst far larger than the pool slows every request down and ends in pool timeouts. Requests
    over the limit wait here instead, first come first served, for at most what is left of their
    call's deadline. The semaphore belongs to one event loop (asyncio primitives bind to the loop
    that first uses them), so a client used from a new loop gets a new one.
    """

    __slots__ = ("_limit", "_loop", "_semaphore")

    def __init__(self, limit: int | None) -> None:
        self._limit = limit
        self._loop: object = None
        self._semaphore: Any = None

    async def acquire(self, timeout: float) -> bool:
        """Wait for a slot; False when there is no limit. Raises httpx.PoolTimeout after `timeout`."""
        if self._limit is None:
            return False
        import asyncio  # see _async_sleep

        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._semaphore = loop, asyncio.Semaphore(self._limit)
        if not self._semaphore.locked():
            # A free slot and nobody queued: acquire() returns without waiting, so the timer
            # wait_for would arm (a task and a timeout per request) is not needed.
            await self._semaphore.acquire()
            return True
        try:
            async with asyncio.timeout(max(timeout, 0.0)):
                await self._semaphore.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no free connection before the call's deadline") from None
        return True

    def release(self) -> None:
        self._semaphore.release()


class AsyncSender:
    """The `AsyncSender` behind `AsyncTrustlyClient`."""

    def __init__(
        self,
        get_client: Callable[[], httpx.AsyncClient],
        policy: CallPolicy,
        lookup: AsyncLookup | None = None,
        in_flight: InFlightLimit | None = None,
        complete: Completer | None = None,
    ) -> None:
        self._get_client = get_client
        self._policy = policy
        self.lookup = lookup
        self._in_flight = in_flight if in_flight is not None else InFlightLimit(None)
        self._complete = complete

    async def send(self, operation_id: str, build: Build, /, **arguments: Any) -> httpx.Response:
        call: _Call | None = None
        try:
            call = _start(operation_id, build, arguments, self._policy, self._complete)
            return await self._send(call)
        except TrustlyError as error:
            _report(call, error)
            raise
        except Exception as exc:
            untyped = _untyped(operation_id, call, exc)
            _report(call, untyped)
            raise untyped from exc
        except BaseException as exc:
            _interrupted(call, exc)
            raise

    async def _send(self, call: _Call) -> httpx.Response:
        client = self._get_client()
        # A backend that sends by other means than httpx (aiohttp: _aiohttp.AiohttpClient)
        # prepares its own requests and reads its own answers, under the same checks.
        prepare = getattr(client, "prepare", None)
        arguments = call.request if prepare is not None else _request_arguments(client, call.request)
        while True:
            timeout = call.next_timeout()
            request: httpx.Request | Outgoing
            if prepare is not None:
                request = prepare(arguments, timeout)
            else:
                request = client.build_request(**arguments, timeout=timeout)
            call.phase = Phase.IN_FLIGHT
            delay: float | None
            try:
                try:
                    response = await self._attempt(client, call, request)
                except (httpx.RequestError, ResponseTooLargeError) as exc:
                    delay = call.on_exception(exc)
                else:
                    delay = call.on_response(response)
            except NeedsLookup as lookup:
                return await self._look_up(call, lookup)
            if delay is None:
                return call.finish(response)
            await _async_sleep(delay)

    async def _attempt(
        self, client: httpx.AsyncClient, call: _Call, request: httpx.Request | Outgoing
    ) -> httpx.Response:
        limited = await self._in_flight.acquire(call.remaining())
        try:
            # The whole attempt, status line and headers included, ends by the call's deadline.
            from ._deadline import attempt_timeout, timed_out  # see SyncSender._attempt

            scope = attempt_timeout(call.remaining())
            try:
                async with scope:
                    if not isinstance(request, httpx.Request):
                        # The whole answer, read under `call`'s size cap and deadline checks.
                        answer: httpx.Response = await client.exchange(request, call)  # type: ignore[attr-defined]
                        return answer
                    return await read_checked(call, await client.send(request, stream=True))
            except TimeoutError:
                if not timed_out(scope):
                    raise
                expired = "the call's deadline passed before the answer was complete"
                named = request if isinstance(request, httpx.Request) else request.request
                raise httpx.ReadTimeout(expired, request=named) from None
        finally:
            if limited:
                self._in_flight.release()

    async def _look_up(self, call: _Call, lookup: NeedsLookup) -> httpx.Response:
        call.phase = Phase.LOOKING_UP
        remaining = call.remaining()
        found: httpx.Response | None = None
        if self.lookup is not None and remaining > 0:
            try:
                found = await self.lookup(call.op, call.request, call.correlation_id, remaining)
            except TrustlyError as failure:
                raise call.unresolved(lookup, failure) from None
        if found is None:
            raise call.unresolved(lookup) from None
        return call.finish(found)

    def parse(self, operation_id: str, response: httpx.Response, decoder: Callable[[Any], T]) -> T:
        return decode(operation_id, response, decoder)

    def invalid(self, operation_id: str, error: InvalidFieldError) -> InvalidRequestError:
        return InvalidRequestError(error.field, error.reason)
