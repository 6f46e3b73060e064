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
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from trustly_api_client.operations import OPERATIONS, Operation, RetryClass
from trustly_api_client.types import InvalidFieldError

from . import _exchange, _logging
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

__all__ = ["AsyncSender", "InFlightLimit", "SyncSender", "decode"]

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
        arguments = _exchange.request_arguments(client, call.request)
        while True:
            timeout = call.next_timeout()
            request, direct = _exchange.build(client, arguments, timeout)
            call.phase = Phase.IN_FLIGHT
            delay: float | None
            try:
                try:
                    response = self._attempt(client, call, request, direct)
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
    def _attempt(client: httpx.Client, call: _Call, request: httpx.Request, direct: bool) -> httpx.Response:
        # Every socket operation of this attempt ends by the call's deadline (see _deadline).
        # Imported here, not at the top: _deadline imports httpcore, which `import trustly`
        # should not pay for (httpx itself loads it with the first client).
        from ._deadline import attempt_deadline, end_attempt

        token = attempt_deadline(call.remaining())
        try:
            response = _exchange.send(client, request) if direct else client.send(request, stream=True)
            return _exchange.read(call, response)
        finally:
            end_attempt(token)

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
        arguments = call.request if prepare is not None else _exchange.request_arguments(client, call.request)
        while True:
            timeout = call.next_timeout()
            request: httpx.Request | Outgoing
            direct = False
            if prepare is not None:
                request = prepare(arguments, timeout)
            else:
                request, direct = _exchange.build(client, arguments, timeout)
            call.phase = Phase.IN_FLIGHT
            delay: float | None
            try:
                try:
                    response = await self._attempt(client, call, request, direct)
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
        self, client: httpx.AsyncClient, call: _Call, request: httpx.Request | Outgoing, direct: bool
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
                    if direct:
                        return await _exchange.read_async(call, await _exchange.send_async(client, request))
                    return await _exchange.read_async(call, await client.send(request, stream=True))
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
