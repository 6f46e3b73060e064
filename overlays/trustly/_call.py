"""One logical call across its attempts: its policy, its state and every decision it makes.

The sync and async senders share this; they differ only in how they wait and send. Each
attempt ends in one of three outcome kinds, whatever HTTP library carried it:

- "not sent": the request cannot have reached Trustly (connect error, pool timeout, 429);
- "may have arrived": it may have been applied (read timeout, reset, 5xx, an unreadable answer);
- a final answer: a status Trustly meant (2xx, a 4xx the caller must fix).

`on_exception` and `on_response` turn those into the next step: wait and retry, return, look
the transaction up (`NeedsLookup`), or raise a `TrustlyError`.
"""

from __future__ import annotations

import enum
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

import httpx

from trustly_api_client.operations import OPERATIONS, Operation, RetryClass

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
    ResponseTooLargeError,
    TrustlyError,
    make_status_error,
)
from ._reconcile import RESOLVABLE
from ._retries import Outcome, RetryPolicy, classify_exception, classify_status, parse_retry_after
from ._validation import prepare_request

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "REFERENCE_KEYED",
    "CallPolicy",
    "NeedsLookup",
    "Phase",
    "lookup_keys",
    "merchant_reference_of",
    "path_parameter",
]

DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
"""The longest answer the client reads: far above any Trustly page, far below a memory problem."""

REFERENCE_KEYED = frozenset({"transactions_capture", "transactions_capture_pre_auth", "transactions_deposit"})
"""Money-moving operations whose only duplicate guard is the account's merchantReference check."""


@dataclass(frozen=True, slots=True)
class CallPolicy:
    """Timeouts, retries and account facts for a call; `with_options` makes a changed copy."""

    timeout: httpx.Timeout
    max_retries: int
    deadline: float
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    unique_merchant_references: bool = False
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    content_types: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Operations whose body is sent with another media type than the spec's (see `_encoding`)."""
    on_ambiguous: Callable[[AmbiguousOutcomeError], object] | None = None
    """Called with every `AmbiguousOutcomeError` a call ends in, raised or attached to a cancellation."""
    longest_timeout: float = field(init=False, repr=False, compare=False)
    """The longest single timeout of an attempt (infinite when one is unbounded)."""

    def __post_init__(self) -> None:
        values = (self.timeout.connect, self.timeout.read, self.timeout.write, self.timeout.pool)
        longest = math.inf if None in values else max(v for v in values if v is not None)
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


class Phase(enum.Enum):
    """How far a call got: what an unexpected exception at that point says about the request."""

    PREPARING = "preparing"  # building and checking the request: nothing sent
    IN_FLIGHT = "in flight"  # handed to the transport: it may have arrived
    ANSWERED = "answered"  # a complete answer was read
    LOOKING_UP = "looking up"  # finding out what an earlier attempt did


class NeedsLookup(Exception):
    """The sender must look the transaction up before anything else.

    Raised for a 210 answer to our own retry (`duplicate`: the first attempt was applied) and,
    on accounts not known to enforce unique merchantReferences, instead of a blind retry.
    """

    def __init__(self, error: TrustlyError, *, duplicate: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.duplicate = duplicate


Completer = Callable[[Operation, dict[str, Any]], dict[str, Any]]
"""Fills in what the client adds to a checked request (the establish signature, references)."""


class _Call:
    """The state of one logical call across its attempts."""

    __slots__ = (
        "attempt",
        "correlation_id",
        "deadline",
        "maybe_applied",
        "op",
        "phase",
        "policy",
        "request",
        "started",
    )

    def __init__(
        self, operation_id: str, request: dict[str, Any], policy: CallPolicy, complete: Completer | None = None
    ) -> None:
        self.phase = Phase.PREPARING
        self.op = OPERATIONS[operation_id]
        self.policy = policy
        self.started = time.monotonic()
        self.deadline = self.started + policy.deadline
        self.attempt = 0
        self.maybe_applied = False  # an earlier attempt may have reached Trustly
        self.correlation_id = os.urandom(16).hex()
        self.request = prepare_request(self.op, request)
        if complete is not None:
            # Signing and generated references happen here, once: every attempt sends these bytes.
            self.request = complete(self.op, self.request)
        # The chosen media type; a form body is flattened to Trustly's dotted names either way.
        self.request = encode_as(self.request, policy.content_types.get(operation_id))
        # BasicAuth copies this into the X-Correlation-Id header of every attempt; setting it
        # there is cheaper than merging one more header into each request.
        self.request["extensions"] = {CORRELATION_EXTENSION: self.correlation_id}

    # -- attempt bookkeeping -------------------------------------------------------------
    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def next_timeout(self) -> httpx.Timeout:
        """The timeout for the next attempt: the policy's, cut to what is left of the deadline."""
        self.phase = Phase.PREPARING
        self.attempt += 1
        remaining = self.remaining()
        if remaining <= 0:
            raise self.final(APITimeoutError(self._describe("deadline exceeded"), correlation_id=self.correlation_id))
        t = self.policy.timeout
        if remaining >= self.policy.longest_timeout:
            return t

        def cut(value: float | None) -> float:
            return remaining if value is None else min(value, remaining)

        return httpx.Timeout(connect=cut(t.connect), read=cut(t.read), write=cut(t.write), pool=cut(t.pool))

    def check_chunk(self, response: httpx.Response, received: int, downloaded: int | None = None) -> None:
        """Called as the answer arrives: enforce the size cap and the whole call's deadline.

        httpx's read timeout is per read, so a server that drips its answer would otherwise
        hold the call far past its deadline. An answer that is complete (all of its declared
        Content-Length arrived) is kept even when its last bytes came after the deadline.
        `downloaded` is how many raw bytes arrived, when the caller counts them itself.
        """
        if received > self.policy.max_response_bytes or time.monotonic() > self.deadline:
            if downloaded is None:
                # Raw bytes when httpx streamed them; a body handed over whole (a mock) counts as read.
                downloaded = response.num_bytes_downloaded or received
            self.check_received(received, downloaded, response.headers.get("Content-Length", ""), response.request)

    def check_received(self, received: int, downloaded: int, declared: str, request: httpx.Request | None) -> None:
        """`check_chunk` for a backend that reads its own answers: `received` decoded bytes,
        `downloaded` raw ones, `declared` the Content-Length header ("" when there is none)."""
        if received > self.policy.max_response_bytes:
            raise ResponseTooLargeError(
                self._describe(f"the answer is longer than max_response_bytes ({self.policy.max_response_bytes})"),
                correlation_id=self.correlation_id,
            )
        if time.monotonic() > self.deadline:
            if declared.isdigit() and downloaded >= int(declared):
                return
            raise httpx.ReadTimeout("the call's deadline passed while the answer was arriving", request=request)

    def _can_retry(self, outcome: Outcome) -> bool:
        if self.attempt > self.policy.max_retries:
            return False
        if outcome is Outcome.NOT_SENT:
            return True
        return self.op.retry is not RetryClass.UNSAFE

    def _reads_before_retry(self) -> bool:
        return self.op.operation_id in REFERENCE_KEYED and not self.policy.unique_merchant_references

    def _delay(self, retry_after: float | None) -> float | None:
        """Seconds to wait before the next attempt, or None when the deadline leaves no room."""
        delay = self.policy.retry.delay(self.attempt, retry_after)
        if time.monotonic() + delay >= self.deadline:
            return None
        return delay

    def _next(self, outcome: Outcome, error: TrustlyError, retry_after: float | None) -> float:
        """After a failed attempt: the delay before retrying, or raise."""
        if outcome is Outcome.MAYBE_APPLIED:
            self.maybe_applied = True
        if outcome is not Outcome.FATAL and self._can_retry(outcome):
            if self.maybe_applied and self._reads_before_retry():
                # The account may not refuse a repeated merchantReference: read, never guess.
                raise NeedsLookup(error, duplicate=False)
            delay = self._delay(retry_after)
            if delay is not None:
                return delay
        raise self.final(error)

    # -- outcomes ------------------------------------------------------------------------
    def on_exception(self, exc: Exception) -> float:
        """Decide after a transport failure: the delay before retrying, or raise."""
        self._log_attempt(None, exc)
        if isinstance(exc, ResponseTooLargeError):
            # An answer came, so the request arrived; asking again brings the same answer.
            outcome = Outcome.FATAL if self.op.retry is RetryClass.SAFE else Outcome.MAYBE_APPLIED
            return self._next(outcome, exc, None)
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        error = cls(self._describe(f"{type(exc).__name__}: {exc}"), correlation_id=self.correlation_id)
        error.__cause__ = exc
        return self._next(classify_exception(exc), error, None)

    def on_response(self, response: httpx.Response) -> float | None:
        """Decide after a complete answer: None to return it, a delay to retry, or raise."""
        self.phase = Phase.ANSWERED
        self._log_attempt(response, None)
        status = response.status_code
        if 200 <= status < 300 and not _carries_errors(response.content):
            return None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        error = self.status_error(response, retry_after)
        if self.is_own_duplicate(error):
            raise NeedsLookup(error, duplicate=True)
        outcome = None if status < 300 else classify_status(status)
        if outcome is None:
            _logging.log_call_end(self, None, error)
            raise error
        return self._next(outcome, error, retry_after)

    def status_error(self, response: httpx.Response, retry_after: float | None) -> APIStatusError:
        """The typed error for an error answer, whatever its body holds.

        Reading the body is the one step a hostile answer controls (nesting deep enough to
        exhaust the stack, a code too long for `int`), so any failure there keeps the status
        and the raw body and drops only the parsed details.
        """
        fields: dict[str, Any] = {
            "status_code": response.status_code,
            "body": response.content,
            "method": self.op.method,
            "path": self.op.path,
            "correlation_id": self.correlation_id,
            "retry_after": retry_after,
        }
        try:
            error = make_status_error(**fields)
        except Exception:
            error = make_status_error(**fields, errors=())
        if isinstance(error, DuplicateRequestError):  # so that `reconcile()` can look it up
            error.merchant_reference, error.transaction_id = self.merchant_reference, self.transaction_id
        return error

    def is_own_duplicate(self, error: TrustlyError) -> bool:
        """True when a 210 answers a retry of ours: the earlier attempt was applied."""
        return isinstance(error, DuplicateRequestError) and self.maybe_applied and self.attempt > 1

    def final(self, error: TrustlyError) -> TrustlyError:
        """The error to raise when no attempt is left; ambiguous for money that may have moved."""
        if self.maybe_applied and self.op.retry is not RetryClass.SAFE:
            ambiguous = self.ambiguous(f"the outcome is unknown ({error}); look the transaction up before retrying")
            ambiguous.__cause__ = error
            _logging.log_call_end(self, None, ambiguous)
            return ambiguous
        _logging.log_call_end(self, None, error)
        return error

    def ambiguous(self, message: str) -> AmbiguousOutcomeError:
        return AmbiguousOutcomeError(
            self._describe(message),
            operation_id=self.op.operation_id,
            merchant_reference=self.merchant_reference,
            transaction_id=self.transaction_id,
            correlation_id=self.correlation_id,
        )

    def unexpected(self, exc: BaseException) -> TrustlyError:
        """The typed error for an exception no other rule covers, by how far the call got."""
        text = f"{type(exc).__name__}: {exc}"
        if self.phase is Phase.PREPARING:
            error: TrustlyError = InvalidRequestError(self.op.operation_id, f"cannot be sent: {text}")
            _logging.log_call_end(self, None, error)
            return error
        if self.phase is not Phase.ANSWERED and self.op.retry is not RetryClass.SAFE:
            self.maybe_applied = True
        return self.final(
            APIConnectionError(self._describe(f"no usable answer: {text}"), correlation_id=self.correlation_id)
        )

    def unresolved(self, lookup: NeedsLookup, failure: BaseException | None = None) -> TrustlyError:
        """The error when a look-up found nothing (or failed): never a guess."""
        if lookup.duplicate and failure is None:
            _logging.log_call_end(self, None, lookup.error)
            return lookup.error  # a 210 with no transaction behind it: raise it as it came
        reason = "the look-up failed" if failure is not None else "no transaction was found"
        ambiguous = self.ambiguous(f"the outcome is unknown ({lookup.error}; {reason}); reconcile before retrying")
        ambiguous.__cause__ = failure if failure is not None else lookup.error
        _logging.log_call_end(self, None, ambiguous)
        return ambiguous

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

    def finish(self, response: httpx.Response) -> httpx.Response:
        _logging.log_call_end(self, response, None)
        response.extensions[CORRELATION_EXTENSION] = self.correlation_id
        return response


def _carries_errors(body: bytes) -> bool:
    """True when a 2xx body is Trustly's error envelope (its docs allow errors with any status)."""
    if b'"errors"' not in body:
        return False
    import json

    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return False  # not an envelope; decoding reports the body as it is
    return isinstance(data, dict) and isinstance(data.get("errors"), list) and bool(data["errors"])


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


def lookup_keys(op: Operation, request: dict[str, Any]) -> tuple[str, str | None] | None:
    """The merchantReference and original transaction id a look-up searches by, if the operation has them."""
    reference = merchant_reference_of(request)
    if op.operation_id not in RESOLVABLE or reference is None:
        return None
    return reference, path_parameter(op.path, str(request.get("url", "")), "transactionId")
