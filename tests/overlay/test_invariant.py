"""The invariant of every call, as a matrix: each way a call can fail x each retry class x sync/async.

The async half runs on both backends: on aiohttp, each httpx transport failure is raised as the
aiohttp exception for the same network event and each answer is served over a real socket (see
`aiohttp_bridge`).

A call ends with its result, a `TrustlyError` raised before anything was sent, an
`AmbiguousOutcomeError` for a money-moving request that may have arrived, or a typed error after
a final answer; nothing else escapes. Failures come from every layer under the sender: the
transport (httpx's exceptions and anything else a transport or event loop raises), the body
decoder, the JSON parser and the model layer. For each case the expected error is derived from
what the failure says about the request, and the number of money-moving attempts is counted.
"""

from __future__ import annotations

import asyncio
import base64
import decimal
import gzip
import ssl
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest

import trustly
from tests.conftest import ACCESS_ID, ACCESS_KEY, REPORT
from tests.overlay.conftest import make_async_client, make_client
from trustly.models import CaptureRequest, RefundRequest

DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
HUGE_INT = b'{"transactionId": ' + b"9" * 5000 + b"}"
HUGE_CODE = b'{"errors": [{"code": ' + b"7" * 5000 + b', "message": "huge"}]}'
NOT_GZIP = b"\x1f\x8b\x08\x00 this is not gzip"
ENVELOPE_210 = b'{"errors": [{"code": 210, "message": "This is a duplicate request. It has been ignored"}]}'
ENVELOPE_200 = b'{"errors": [{"code": 200, "message": "Invalid parameter"}]}'
# Building a TLS context costs more than a case; every client here shares one.
TLS = ssl.create_default_context()
CAP = 1 << 20  # max_response_bytes in this matrix: above the deep bodies, below the bomb


@dataclass(frozen=True)
class Failure:
    """One way an attempt can fail, and what it says about the request."""

    name: str
    kind: str  # "not sent", "refused", "may have arrived", "unknown", "final", "too large"
    answer: Callable[[httpx.Request], httpx.Response]
    final_error: type[trustly.TrustlyError] | None = None
    on_aiohttp: str | None = None  # the kind on the aiohttp backend, where it differs


# aiohttp wraps an OSError raised inside its request path in ClientOSError: a connection that
# failed after the request was handed to it (httpcore reports socket errors the same way, as
# ReadError / WriteError), so on that backend it says "may have arrived".
def _kind_on_aiohttp(exc: BaseException) -> str | None:
    if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
        return "may have arrived"
    return None


def _raising(exc: BaseException) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc

    return answer


def _answering(status: int, body: bytes, **headers: str) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json", **headers})

    return answer


def _transport_failures() -> list[Failure]:
    failures = [
        Failure(f"httpx.{cls.__name__}", "not sent", _raising(cls("x")))
        for cls in (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
    ]
    failures += [
        Failure(f"httpx.{cls.__name__}", "refused", _raising(cls("x")))
        for cls in (httpx.ProxyError, httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.TooManyRedirects)
    ]
    failures += [
        Failure(f"httpx.{cls.__name__}", "may have arrived", _raising(cls("x")))
        for cls in (
            httpx.ReadTimeout,
            httpx.WriteTimeout,
            httpx.ReadError,
            httpx.WriteError,
            httpx.RemoteProtocolError,
            httpx.DecodingError,
        )
    ]
    # Whatever else a transport, TLS, the OS or the event loop can raise mid-request.
    others: list[BaseException] = [
        OSError(104, "reset"),
        ConnectionResetError(),
        TimeoutError(),
        ssl.SSLError(1, "bad record mac"),
        UnicodeEncodeError("ascii", "é", 0, 1, "ordinal not in range"),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
        ValueError("bad"),
        TypeError("bad"),
        KeyError("k"),
        AttributeError("a"),
        IndexError("i"),
        RuntimeError("Event loop is closed"),
        RecursionError("maximum recursion depth exceeded"),
        MemoryError(),
        asyncio.InvalidStateError(),
        anyio.ClosedResourceError(),
        anyio.BrokenResourceError(),
        ZeroDivisionError(),
    ]
    failures += [Failure(type(exc).__name__, "unknown", _raising(exc), None, _kind_on_aiohttp(exc)) for exc in others]
    return failures


def _answer_failures() -> list[Failure]:
    return [
        # the decoder
        Failure(
            "200 gzip over a corrupt body",
            "may have arrived",
            _answering(200, NOT_GZIP, **{"Content-Encoding": "gzip"}),
        ),
        Failure(
            "500 gzip over a corrupt body",
            "may have arrived",
            _answering(500, NOT_GZIP, **{"Content-Encoding": "gzip"}),
        ),
        Failure(
            "200 gzip bomb",
            "too large",
            _answering(200, gzip.compress(b"{" * (2 * CAP)), **{"Content-Encoding": "gzip"}),
        ),
        Failure("200 longer than the cap", "too large", _answering(200, b" " * (CAP + 1))),
        Failure(
            "200 declared longer than the cap", "too large", _answering(200, b"{}", **{"Content-Length": str(CAP * 10)})
        ),
        # the JSON parser, on error answers and on success answers
        Failure("500 deeply nested JSON", "may have arrived", _answering(500, DEEP_JSON)),
        Failure("500 error code of 5,000 digits", "may have arrived", _answering(500, HUGE_CODE)),
        Failure("503 not JSON", "may have arrived", _answering(503, b"<html>down</html>")),
        Failure(
            "200 deeply nested JSON",
            "final",
            _answering(200, b"[" * 2000 + b"]" * 2000),
            trustly.ResponseValidationError,
        ),
        Failure("200 integer of 5,000 digits", "final", _answering(200, HUGE_INT), trustly.ResponseValidationError),
        Failure("200 not JSON", "final", _answering(200, b"<html>ok</html>"), trustly.ResponseValidationError),
        Failure("200 JSON of the wrong shape", "final", _answering(200, b"[1, 2]"), trustly.ResponseValidationError),
        Failure("200 invalid UTF-8", "final", _answering(200, b'{"a": "\xff"}'), trustly.ResponseValidationError),
        # error envelopes on a success status (Trustly's docs allow errors with any status)
        Failure("200 carrying code 210", "final", _answering(200, ENVELOPE_210), trustly.DuplicateRequestError),
        Failure("200 carrying code 200", "final", _answering(200, ENVELOPE_200), trustly.APIStatusError),
    ]


def _model_failures() -> list[Failure]:
    """The model layer: `from_dict` raising (patched in by the test)."""
    ok = _answering(200, b'{"transactionId": "1"}')
    excs = (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, ZeroDivisionError)
    failures = [
        Failure(f"from_dict raises {cls.__name__}", "final", ok, trustly.ResponseValidationError) for cls in excs
    ]
    return [*failures, Failure("from_dict raises InvalidOperation", "final", ok, trustly.ResponseValidationError)]


MODEL_ERRORS: dict[str, type[Exception]] = {
    f"from_dict raises {cls.__name__}": cls
    for cls in (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, ZeroDivisionError)
}
MODEL_ERRORS["from_dict raises InvalidOperation"] = decimal.InvalidOperation

FAILURES = _transport_failures() + _answer_failures() + _model_failures()

# The retry classes, with the operation each is exercised through.
CLASSES = {
    "safe": ("get", {}),
    "idempotent (unknown account)": ("capture", {}),
    "idempotent (unique references)": ("capture", {"unique_merchant_references": True}),
    "unsafe": ("refund", {}),
}


def _call(client: Any, operation: str) -> Any:
    if operation == "get":
        return client.transactions.get("1002633191")
    if operation == "capture":
        body = CaptureRequest(merchant_reference="cap-1", amount="10.00", split_token="tok")
        return client.transactions.capture("1002633191", body=body)
    return client.transactions.refund("1002633191", body=RefundRequest(merchant_reference="ref-1", amount="5.00"))


def _expected(failure: Failure, retry_class: str, backend: str) -> tuple[type[trustly.TrustlyError], int]:
    """The error type the call must end with, and how many times the operation itself may be sent."""
    safe = retry_class == "safe"
    retried = retry_class in ("safe", "idempotent (unique references)")
    kind = failure.on_aiohttp if backend == "aiohttp" and failure.on_aiohttp else failure.kind
    if kind == "not sent":
        return trustly.APIConnectionError, 3  # retried every time: nothing arrived
    if kind == "refused":
        return trustly.APIConnectionError, 1
    if kind == "final":
        assert failure.final_error is not None
        return failure.final_error, 1
    if kind == "too large":
        return (trustly.ResponseTooLargeError, 1) if safe else (trustly.AmbiguousOutcomeError, 3 if retried else 1)
    if kind == "unknown":
        return (trustly.APIConnectionError, 1) if safe else (trustly.AmbiguousOutcomeError, 1)
    # may have arrived
    if safe:
        return trustly.TrustlyError, 3
    return trustly.AmbiguousOutcomeError, 3 if retried else 1


SECRETS = (ACCESS_KEY, base64.b64encode(f"{ACCESS_ID}:{ACCESS_KEY}".encode()).decode())


def assert_no_secret_in_frames(error: BaseException) -> None:
    """No frame of the error or its causes holds the access key in a local (what error reporters record)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for frame, _ in traceback.walk_tb(current.__traceback__):
            for name, value in frame.f_locals.items():
                text = repr(value)
                assert not any(secret in text for secret in SECRETS), (frame.f_code.co_name, name)
        assert not any(secret in str(current) for secret in SECRETS)
        current = current.__cause__ or current.__context__


class Counting:
    """A MockTransport handler: the failure for the operation, the same for look-ups."""

    def __init__(self, failure: Failure) -> None:
        self.failure = failure
        self.sent = 0  # attempts of the operation itself (look-ups are GET /transactions)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/api/v1/transactions":
            self.sent += 1
        return self.failure.answer(request)


def _check(
    failure: Failure,
    retry_class: str,
    handler: Counting,
    outcome: BaseException | None,
    reported: list[Any],
    backend: str = "httpx",
) -> None:
    expected, sends = _expected(failure, retry_class, backend)
    assert isinstance(outcome, trustly.TrustlyError), f"untyped: {outcome!r}"
    assert isinstance(outcome, expected), f"{type(outcome).__name__}, expected {expected.__name__}"
    if expected is not trustly.AmbiguousOutcomeError:
        assert not isinstance(outcome, trustly.AmbiguousOutcomeError)
        assert reported == []
    else:
        assert reported == [outcome], "on_ambiguous gets each ambiguous outcome once, the one raised"
    assert handler.sent == sends
    assert_no_secret_in_frames(outcome)


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("trustly._retries.RetryPolicy.delay", lambda self, attempt, retry_after: 0.0)


@pytest.fixture
def model_layer(monkeypatch: pytest.MonkeyPatch) -> Callable[[Failure], None]:
    from trustly_api_client.models.transaction import Transaction

    def patch(failure: Failure) -> None:
        exc = MODEL_ERRORS.get(failure.name)
        if exc is not None:

            def broken(cls: type, data: Any) -> Any:
                raise exc("model layer")

            monkeypatch.setattr(Transaction, "from_dict", classmethod(broken))

    return patch


COUNTS = {"sync": 0, "httpx": 0, "aiohttp": 0}


@pytest.mark.parametrize("retry_class", list(CLASSES))
@pytest.mark.parametrize("failure", FAILURES, ids=[f.name for f in FAILURES])
def test_sync(failure: Failure, retry_class: str, model_layer: Callable[[Failure], None]) -> None:
    model_layer(failure)
    operation, options = CLASSES[retry_class]
    handler = Counting(failure)
    reported: list[Any] = []
    outcome: BaseException | None = None
    with make_client(handler, max_response_bytes=CAP, verify=TLS, on_ambiguous=reported.append, **options) as client:
        try:
            _call(client, operation)
        except Exception as error:  # the invariant: only TrustlyError may escape
            outcome = error
    _check(failure, retry_class, handler, outcome, reported)
    COUNTS["sync"] += 1


@pytest.mark.anyio
@pytest.mark.parametrize("retry_class", list(CLASSES))
@pytest.mark.parametrize("failure", FAILURES, ids=[f.name for f in FAILURES])
async def test_async(failure: Failure, retry_class: str, model_layer: Callable[[Failure], None], backend: str) -> None:
    model_layer(failure)
    operation, options = CLASSES[retry_class]
    handler = Counting(failure)
    reported: list[Any] = []
    outcome: BaseException | None = None
    hook = reported.append
    options = {**options, "on_ambiguous": hook}
    async with make_async_client(handler, backend, max_response_bytes=CAP, verify=TLS, **options) as client:
        try:
            await _call(client, operation)
        except Exception as error:
            outcome = error
    _check(failure, retry_class, handler, outcome, reported, backend)
    COUNTS[backend] += 1
    if COUNTS["httpx"] == COUNTS["aiohttp"] == len(FAILURES) * len(CLASSES):
        cases = COUNTS["sync"] + COUNTS["httpx"] + COUNTS["aiohttp"]
        REPORT.append(
            f"invariant matrix: {len(FAILURES)} failures (transport, decoder, JSON parser, model layer, event loop) "
            f"x {len(CLASSES)} retry classes x sync / async on httpx / async on aiohttp = {cases} cases; "
            "0 untyped exceptions, 0 unsafe resends, 0 access keys in frame locals, "
            "every AmbiguousOutcomeError handed to on_ambiguous exactly once"
        )
