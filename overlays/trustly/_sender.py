"""How one logical call becomes one or more HTTP attempts.

The generated facade builds a request and hands it to a sender. The sender validates the
arguments, adds a correlation id, sends through the client's pooled httpx client, retries
only where retrying cannot move money twice, and turns every failure into a `TrustlyError`.

The decisions live in `_Call`, shared by the sync and async senders; they differ only in
how they wait and send.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import unquote

import httpx

from trustly_api_client.operations import OPERATIONS, Operation, RetryClass
from trustly_api_client.types import InvalidFieldError

from . import _logging
from ._auth import CORRELATION_EXTENSION
from ._encoding import encode_as
from ._errors import (
    AmbiguousOutcomeError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    DuplicateRequestError,
    InvalidRequestError,
    ResponseValidationError,
    TrustlyError,
    make_status_error,
)
from ._retries import Outcome, RetryPolicy, classify_exception, classify_status, parse_retry_after
from ._validation import prepare_request

__all__ = ["AsyncSender", "CallPolicy", "InFlightLimit", "SyncSender", "merchant_reference_of", "path_parameter"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CallPolicy:
    """Timeouts and retries for a call; `with_options` makes a changed copy."""

    timeout: httpx.Timeout
    max_retries: int
    deadline: float
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    content_types: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Operations whose body is sent with another media type than the spec's (see `_encoding`)."""
    longest_timeout: float = field(init=False, repr=False, compare=False)
    """The longest single timeout of an attempt (infinite when one is unbounded)."""

    def __post_init__(self) -> None:
        values = (self.timeout.connect, self.timeout.read, self.timeout.write, self.timeout.pool)
        longest = float("inf") if None in values else max(v for v in values if v is not None)
        object.__setattr__(self, "longest_timeout", longest)  # frozen: computed once, read per attempt

    def replace(
        self,
        *,
        timeout: httpx.Timeout | None = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        content_types: Mapping[str, str] | None = None,
    ) -> CallPolicy:
        changes: dict[str, Any] = {}
        if content_types is not None:
            changes["content_types"] = MappingProxyType(dict(content_types))
        if timeout is not None:
            changes["timeout"] = timeout
        if max_retries is not None:
            changes["max_retries"] = max_retries
        if deadline is not None:
            changes["deadline"] = deadline
        return replace(self, **changes)


DuplicateResolver = Callable[[Operation, dict[str, Any], str], httpx.Response | None]
Completer = Callable[[Operation, dict[str, Any]], dict[str, Any]]
"""Fills in what the client adds to a checked request (the establish signature, references)."""


class _Call:
    """The state of one logical call across its attempts."""

    __slots__ = ("attempt", "correlation_id", "deadline", "maybe_applied", "op", "policy", "request", "started")

    def __init__(
        self, operation_id: str, request: dict[str, Any], policy: CallPolicy, complete: Completer | None = None
    ) -> None:
        self.op = OPERATIONS[operation_id]
        self.policy = policy
        self.request = prepare_request(self.op, request)
        if complete is not None:
            # Signing and generated references happen here, once: every attempt sends these bytes.
            self.request = complete(self.op, self.request)
        switched = policy.content_types.get(operation_id)
        if switched is not None:
            self.request = encode_as(self.request, switched)
        self.correlation_id = os.urandom(16).hex()
        # BasicAuth copies this into the X-Correlation-Id header of every attempt; setting it
        # there is cheaper than merging one more header into each request.
        self.request["extensions"] = {CORRELATION_EXTENSION: self.correlation_id}
        self.attempt = 0
        self.started = time.monotonic()
        self.deadline = self.started + policy.deadline
        self.maybe_applied = False  # an earlier attempt may have reached Trustly

    # -- attempt bookkeeping -------------------------------------------------------------
    def next_timeout(self) -> httpx.Timeout:
        """The timeout for the next attempt: the policy's, cut to what is left of the deadline."""
        self.attempt += 1
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self._final(APITimeoutError(self._describe("deadline exceeded"), correlation_id=self.correlation_id))
        t = self.policy.timeout
        if remaining >= self.policy.longest_timeout:
            return t

        def cut(value: float | None) -> float:
            return remaining if value is None else min(value, remaining)

        return httpx.Timeout(connect=cut(t.connect), read=cut(t.read), write=cut(t.write), pool=cut(t.pool))

    def _can_retry(self, outcome: Outcome) -> bool:
        if self.attempt > self.policy.max_retries:
            return False
        if outcome is Outcome.NOT_SENT:
            return True
        return self.op.retry is not RetryClass.UNSAFE

    def _delay(self, retry_after: float | None) -> float | None:
        """Seconds to wait before the next attempt, or None when the deadline leaves no room."""
        delay = self.policy.retry.delay(self.attempt, retry_after)
        if time.monotonic() + delay >= self.deadline:
            return None
        return delay

    # -- outcomes ------------------------------------------------------------------------
    def on_exception(self, exc: Exception) -> float:
        """Decide after a transport failure: the delay before retrying, or raise."""
        outcome = classify_exception(exc)
        self._log_attempt(None, exc)
        if outcome is Outcome.MAYBE_APPLIED:
            self.maybe_applied = True
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        error = cls(self._describe(f"{type(exc).__name__}: {exc}"), correlation_id=self.correlation_id)
        error.__cause__ = exc
        if outcome is not Outcome.FATAL and self._can_retry(outcome):
            delay = self._delay(None)
            if delay is not None:
                return delay
        raise self._final(error)

    def on_response(self, response: httpx.Response) -> float | None:
        """Decide after a response: None to return it, a delay to retry, or raise."""
        self._log_attempt(response, None)
        status = response.status_code
        if 200 <= status < 300:
            return None
        body = response.read()
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        error = make_status_error(
            status_code=status,
            body=body,
            method=self.op.method,
            path=self.op.path,
            correlation_id=self.correlation_id,
            retry_after=retry_after,
        )
        if isinstance(error, DuplicateRequestError):
            error.merchant_reference, error.transaction_id = self.merchant_reference, self.transaction_id
        outcome = classify_status(status)
        if outcome is None:
            if not self.is_own_duplicate(error):  # the sender logs once the duplicate is resolved
                _logging.log_call_end(self, None, error)
            raise error
        if outcome is Outcome.MAYBE_APPLIED:
            self.maybe_applied = True
        if self._can_retry(outcome):
            delay = self._delay(retry_after)
            if delay is not None:
                return delay
        raise self._final(error)

    def is_own_duplicate(self, error: APIStatusError) -> bool:
        """True when a 210 answers a retry of ours: the earlier attempt was applied."""
        return isinstance(error, DuplicateRequestError) and self.maybe_applied and self.attempt > 1

    def _final(self, error: TrustlyError) -> TrustlyError:
        """The error to raise when no attempt is left; ambiguous for money that may have moved."""
        if self.maybe_applied and self.op.retry is not RetryClass.SAFE:
            ambiguous = AmbiguousOutcomeError(
                self._describe(f"the outcome is unknown ({error}); look the transaction up before retrying"),
                operation_id=self.op.operation_id,
                merchant_reference=self.merchant_reference,
                transaction_id=self.transaction_id,
                correlation_id=self.correlation_id,
            )
            ambiguous.__cause__ = error
            _logging.log_call_end(self, None, ambiguous)
            return ambiguous
        _logging.log_call_end(self, None, error)
        return error

    # -- what reconciliation needs ---------------------------------------------------------
    @property
    def merchant_reference(self) -> str | None:
        return merchant_reference_of(self.request)

    @property
    def transaction_id(self) -> str | None:
        return path_parameter(self.op.path, str(self.request.get("url", "")), "transactionId")

    def _describe(self, message: str) -> str:
        return f"{self.op.method} {self.op.path} (attempt {self.attempt}): {message}"

    def _log_attempt(self, response: httpx.Response | None, exc: Exception | None) -> None:
        _logging.log_attempt(self, response, exc)

    def unresolved(self, error: DuplicateRequestError) -> DuplicateRequestError:
        """A 210 that could not be resolved to a transaction: raise it as it came."""
        if self.is_own_duplicate(error):
            _logging.log_call_end(self, None, error)
        return error

    def finish(self, response: httpx.Response) -> httpx.Response:
        _logging.log_call_end(self, response, None)
        response.extensions[CORRELATION_EXTENSION] = self.correlation_id
        return response


def merchant_reference_of(request: dict[str, Any]) -> str | None:
    """The merchantReference a request body carries, if any."""
    for key in ("json", "data"):
        body = request.get(key)
        if isinstance(body, dict) and isinstance(body.get("merchantReference"), str):
            return str(body["merchantReference"])
    return None


def path_parameter(template: str, url: str, name: str) -> str | None:
    """The value of `{name}` in `url`, matched segment by segment against `template`."""
    wanted = "{" + name + "}"
    template_parts = template.strip("/").split("/")
    url_parts = url.split("?", 1)[0].strip("/").split("/")
    if len(template_parts) != len(url_parts) or wanted not in template_parts:
        return None
    return unquote(url_parts[template_parts.index(wanted)])


def decode(operation_id: str, response: httpx.Response, decoder: Callable[[Any], T]) -> T:
    """Decode a 2xx body with the generated model's `from_dict`, wrapping every failure."""
    correlation_id = response.extensions.get(CORRELATION_EXTENSION)
    try:
        return decoder(response.json())
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ResponseValidationError(
            f"the {response.status_code} response body does not fit its model: {type(exc).__name__}: {exc}",
            operation_id=operation_id,
            body=response.content,
            correlation_id=correlation_id,
        ) from exc


class SyncSender:
    """The `Sender` behind `TrustlyClient`."""

    def __init__(
        self,
        get_client: Callable[[], httpx.Client],
        policy: CallPolicy,
        resolve_duplicate: DuplicateResolver | None = None,
        complete: Completer | None = None,
    ) -> None:
        self._get_client = get_client
        self._policy = policy
        self.resolve_duplicate = resolve_duplicate
        self._complete = complete

    def send(self, operation_id: str, request: dict[str, Any]) -> httpx.Response:
        call = _Call(operation_id, request, self._policy, self._complete)
        client = self._get_client()
        while True:
            timeout = call.next_timeout()
            try:
                response = client.request(**call.request, timeout=timeout)
            except httpx.RequestError as exc:
                time.sleep(call.on_exception(exc))
                continue
            try:
                delay = call.on_response(response)
            except DuplicateRequestError as error:
                resolved = self._resolve(call, error)
                if resolved is None:
                    raise call.unresolved(error) from None
                return call.finish(resolved)
            if delay is None:
                return call.finish(response)
            time.sleep(delay)

    def _resolve(self, call: _Call, error: DuplicateRequestError) -> httpx.Response | None:
        if not call.is_own_duplicate(error) or self.resolve_duplicate is None:
            return None
        return self.resolve_duplicate(call.op, call.request, call.correlation_id)

    def parse(self, operation_id: str, response: httpx.Response, decoder: Callable[[Any], T]) -> T:
        return decode(operation_id, response, decoder)

    def invalid(self, operation_id: str, error: InvalidFieldError) -> InvalidRequestError:
        return InvalidRequestError(error.field, error.reason)


AsyncDuplicateResolver = Callable[[Operation, dict[str, Any], str], Any]


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
        try:
            await asyncio.wait_for(self._semaphore.acquire(), max(timeout, 0.0))
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
        resolve_duplicate: AsyncDuplicateResolver | None = None,
        in_flight: InFlightLimit | None = None,
        complete: Completer | None = None,
    ) -> None:
        self._get_client = get_client
        self._policy = policy
        self.resolve_duplicate = resolve_duplicate
        self._in_flight = in_flight if in_flight is not None else InFlightLimit(None)
        self._complete = complete

    async def send(self, operation_id: str, request: dict[str, Any]) -> httpx.Response:
        call = _Call(operation_id, request, self._policy, self._complete)
        client = self._get_client()
        while True:
            timeout = call.next_timeout()
            try:
                response = await self._request(client, call, timeout)
            except httpx.RequestError as exc:
                await _async_sleep(call.on_exception(exc))
                continue
            try:
                delay = call.on_response(response)
            except DuplicateRequestError as error:
                if not call.is_own_duplicate(error):
                    raise
                resolved: httpx.Response | None = None
                if self.resolve_duplicate is not None:
                    resolved = await self.resolve_duplicate(call.op, call.request, call.correlation_id)
                if resolved is None:
                    raise call.unresolved(error) from None
                return call.finish(resolved)
            if delay is None:
                return call.finish(response)
            await _async_sleep(delay)

    async def _request(self, client: httpx.AsyncClient, call: _Call, timeout: httpx.Timeout) -> httpx.Response:
        limited = await self._in_flight.acquire(call.deadline - time.monotonic())
        try:
            return await client.request(**call.request, timeout=timeout)
        finally:
            if limited:
                self._in_flight.release()

    def parse(self, operation_id: str, response: httpx.Response, decoder: Callable[[Any], T]) -> T:
        return decode(operation_id, response, decoder)

    def invalid(self, operation_id: str, error: InvalidFieldError) -> InvalidRequestError:
        return InvalidRequestError(error.field, error.reason)
