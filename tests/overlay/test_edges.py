"""The edges of a call: each reproduction from probing the client from outside, and its class.

Inputs that would retarget a request or bypass validation are refused before anything is sent;
answers that cannot be read end as typed errors; the deadline bounds the whole call, body reads
and look-ups included; money-moving calls on accounts without a known merchantReference check
read before they would retry.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import math
import re
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import trustly
from tests.conftest import TRANSACTION
from tests.overlay.conftest import Recorder, make_async_client, make_client
from trustly._validation import check_path_arguments
from trustly.models import CaptureRequest, DepositRequest, DisputeRecoveryRequest, PreAuthRequest, RefundRequest
from trustly_api_client.operations import OPERATIONS, Operation

CAPTURED = {**TRANSACTION, "transactionId": "2000", "transactionType": "3", "merchantReference": "cap-1"}
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
HUGE_CODE = b'{"errors": [{"code": ' + b"7" * 5000 + b', "message": "huge"}]}'
DUPLICATE = {"errors": [{"code": 210, "message": "This is a duplicate request. It has been ignored"}]}


def _refund(client: Any, transaction_id: Any = "1002633191") -> Any:
    return client.transactions.refund(transaction_id, body=RefundRequest(merchant_reference="r-1", amount="5.00"))


def _capture(client: Any, reference: str = "cap-1") -> Any:
    body = CaptureRequest(merchant_reference=reference, amount="10.00", split_token="tok")
    return client.transactions.capture("1002633191", body=body)


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("trustly._retries.RetryPolicy.delay", lambda self, attempt, retry_after: 0.0)


# -- answers that cannot be read ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (200, b"\x1f\x8b\x08\x00 this is not gzip", {"Content-Encoding": "gzip"}),
        (500, DEEP_JSON, {}),
        (500, HUGE_CODE, {}),
    ],
    ids=["200 gzip over a corrupt body", "500 deeply nested JSON", "500 code of 5,000 digits"],
)
def test_refund_with_an_unreadable_answer_is_ambiguous(status: int, body: bytes, headers: dict[str, str]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json", **headers})

    recorder = Recorder(answer)
    with pytest.raises(trustly.AmbiguousOutcomeError) as caught:
        _refund(make_client(recorder))
    assert len(recorder.requests) == 1
    assert caught.value.merchant_reference == "r-1" and caught.value.transaction_id == "1002633191"


@pytest.mark.parametrize("body", [DEEP_JSON, HUGE_CODE], ids=["deep", "huge code"])
def test_an_unparseable_error_body_keeps_its_status_and_bytes(body: bytes) -> None:
    recorder = Recorder(httpx.Response(500, content=body))
    with pytest.raises(trustly.InternalServerError) as caught:
        make_client(recorder, max_retries=0).transactions.get("1")
    assert caught.value.status_code == 500 and caught.value.body == body


def test_response_size_cap_is_configurable() -> None:
    recorder = Recorder(httpx.Response(200, content=b" " * 2048))
    with pytest.raises(trustly.ResponseTooLargeError, match="max_response_bytes"):
        make_client(recorder, max_response_bytes=1024).transactions.get("1")
    with pytest.raises(trustly.ConfigurationError):
        make_client(recorder, max_response_bytes=0)


def test_a_200_carrying_errors_is_an_error() -> None:
    recorder = Recorder(httpx.Response(200, json={"errors": [{"code": 200, "message": "Invalid parameter"}]}))
    with pytest.raises(trustly.APIStatusError) as caught:
        make_client(recorder).transactions.get("1")
    assert caught.value.status_code == 200 and caught.value.code == 200 and len(recorder.requests) == 1


def test_a_200_carrying_210_answers_our_retry_with_the_transaction() -> None:
    def lookup(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"transactions": [CAPTURED]})

    recorder = Recorder(httpx.ReadTimeout("slow"), httpx.Response(200, json=DUPLICATE), lookup)
    result = _capture(make_client(recorder, unique_merchant_references=True))
    assert result.transaction_id == "2000"
    assert [r.method for r in recorder.requests] == ["POST", "POST", "GET"]


# -- the deadline bounds the whole call --------------------------------------------------------
class FakeClock:
    """`time.monotonic` for the sender: advanced by the fake server, never by real waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr("trustly._call.time.monotonic", fake)
    return fake


class Drip(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that arrives one byte per `seconds` of fake time."""

    def __init__(self, clock: FakeClock, body: bytes, seconds: float) -> None:
        self.clock, self.body, self.seconds = clock, body, seconds
        self.sent = 0

    def _bytes(self) -> Iterator[bytes]:
        for index in range(len(self.body)):
            self.clock.now += self.seconds
            self.sent += 1
            yield self.body[index : index + 1]

    def __iter__(self) -> Iterator[bytes]:
        return self._bytes()

    async def __aiter__(self) -> Any:
        for chunk in self._bytes():
            yield chunk


def test_a_dripping_body_ends_at_the_deadline(clock: FakeClock) -> None:
    body = b'{"transactionId": "1"}' * 20
    drip = Drip(clock, body, 0.01)  # 4.4 s for the whole body; the deadline is 1 s
    recorder = Recorder(lambda request: httpx.Response(200, stream=drip))
    with pytest.raises(trustly.APITimeoutError, match="deadline"):
        make_client(recorder, deadline=1).transactions.get("1")
    assert drip.sent < len(body) and drip.sent <= 101


@pytest.mark.anyio
async def test_a_dripping_body_ends_at_the_deadline_async(clock: FakeClock) -> None:
    drip = Drip(clock, b"x" * 440, 0.01)
    recorder = Recorder(lambda request: httpx.Response(200, stream=drip))
    async with make_async_client(recorder, deadline=1) as client:
        with pytest.raises(trustly.AmbiguousOutcomeError) as caught:
            await _refund(client)
    assert isinstance(caught.value.__cause__, trustly.APITimeoutError)
    assert drip.sent <= 101


def test_a_complete_answer_that_arrives_late_is_kept(clock: FakeClock) -> None:
    def late(request: httpx.Request) -> httpx.Response:
        clock.now += 5.0  # the whole answer arrives after the 1 s deadline
        return httpx.Response(200, json={**TRANSACTION, "transactionId": "3000"})

    assert _refund(make_client(Recorder(late), deadline=1)).transaction_id == "3000"  # no false ambiguity


def test_the_210_lookup_gets_the_remaining_deadline(clock: FakeClock) -> None:
    def slow_first(request: httpx.Request) -> httpx.Response:
        clock.now += 7.0
        raise httpx.ReadTimeout("slow", request=request)

    def lookup(request: httpx.Request) -> httpx.Response:
        timeout = request.extensions["timeout"]
        assert all(value is not None and value <= 3.0 for value in timeout.values()), timeout
        return httpx.Response(200, json={"transactions": [CAPTURED]})

    recorder = Recorder(slow_first, httpx.Response(409, json=DUPLICATE), lookup)
    assert _capture(make_client(recorder, deadline=10, unique_merchant_references=True)).transaction_id == "2000"
    assert len(recorder.requests) == 3


# -- account idempotency: read before retrying ----------------------------------------------------
def test_unknown_account_reads_before_it_would_retry() -> None:
    def lookup(request: httpx.Request) -> httpx.Response:
        assert request.method == "GET" and request.url.path == "/api/v1/transactions"
        return httpx.Response(200, json={"transactions": [CAPTURED]})

    recorder = Recorder(httpx.Response(502), lookup)
    assert _capture(make_client(recorder)).transaction_id == "2000"
    assert [r.method for r in recorder.requests] == ["POST", "GET"]
    assert recorder.requests[1].url.params["originalTransactionId"] == "1002633191"


def test_unknown_account_with_nothing_found_is_ambiguous_not_resent() -> None:
    def lookup(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"transactions": []})

    recorder = Recorder(httpx.RemoteProtocolError("reset"), lookup, lookup)
    with pytest.raises(trustly.AmbiguousOutcomeError, match="no transaction was found") as caught:
        _capture(make_client(recorder))
    assert [r.method for r in recorder.requests].count("POST") == 1
    assert caught.value.merchant_reference == "cap-1"


def test_not_sent_failures_are_still_retried_on_an_unknown_account() -> None:
    recorder = Recorder(httpx.ConnectError("refused"), httpx.Response(200, json=CAPTURED))
    assert _capture(make_client(recorder)).transaction_id == "2000"
    assert len(recorder.requests) == 2


def test_unique_merchant_references_must_be_a_bool() -> None:
    with pytest.raises(trustly.ConfigurationError):
        make_client(Recorder(httpx.Response(200)), unique_merchant_references="yes")


# -- inputs that would retarget a request -----------------------------------------------------
BAD_IDS: list[Any] = [
    "",
    ".",
    "..",
    None,
    42,
    1.5,
    b"1",
    "a/b",
    "a?b",
    "a#b",
    "a b",
    "é",
    "\ud800",
    "1" * 65,
    "9" * 70_000,
]


@pytest.mark.parametrize("bad", BAD_IDS, ids=[repr(b)[:20] for b in BAD_IDS])
def test_bad_path_ids_are_refused_before_sending(bad: Any) -> None:
    recorder = Recorder(httpx.Response(200, json=TRANSACTION))
    client = make_client(recorder)
    with pytest.raises(trustly.InvalidRequestError) as caught:
        client.transactions.get(bad)
    assert caught.value.field == "transaction_id"
    with pytest.raises(trustly.InvalidRequestError):
        _refund(client, bad)
    assert recorder.requests == []


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=80))
def test_any_id_is_sent_to_its_own_resource_or_refused(value: str) -> None:
    recorder = Recorder(httpx.Response(200, json=TRANSACTION))
    try:
        make_id_client(recorder).transactions.get(value)
    except trustly.InvalidRequestError:
        assert recorder.requests == []
        return
    (request,) = recorder.requests
    assert request.url.path == f"/api/v1/transactions/{value}"


def make_id_client(recorder: Recorder) -> trustly.TrustlyClient:
    CLIENT_HANDLER.recorder = recorder
    return CLIENT_FOR_IDS


class _Handler:
    recorder: Recorder

    def __call__(self, request: httpx.Request) -> httpx.Response:
        return self.recorder(request)


CLIENT_HANDLER = _Handler()
CLIENT_FOR_IDS = make_client(CLIENT_HANDLER)


PATH_OPERATIONS = [op for op in OPERATIONS.values() if "{" in op.path]


@pytest.mark.parametrize("op", PATH_OPERATIONS, ids=[op.operation_id for op in PATH_OPERATIONS])
def test_every_path_id_of_every_operation_is_checked_as_the_caller_passed_it(op: Operation) -> None:
    """The ids are checked before `str()` (so None is not "None") for every path parameter."""
    build = importlib.import_module(f"trustly_api_client.api.{op.tag}.{op.operation_id}")._get_kwargs
    names = [re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() for name in re.findall(r"\{(\w+)\}", op.path)]
    assert names and set(names) <= set(inspect.signature(build).parameters), (op.path, names)
    for name in names:
        for bad in BAD_IDS:
            with pytest.raises(trustly.InvalidRequestError) as caught:
                check_path_arguments(op, {**dict.fromkeys(names, "1"), name: bad})
            assert caught.value.field == name, (name, bad)
        check_path_arguments(op, dict.fromkeys(names, "1002633191"))


# -- retries that rely on a dedup key need one -------------------------------------------------
@pytest.mark.parametrize("reference", ["", "   "])
def test_capture_and_deposit_need_a_merchant_reference(reference: str) -> None:
    recorder = Recorder(httpx.Response(500))
    client = make_client(recorder, unique_merchant_references=True)
    with pytest.raises(trustly.InvalidRequestError, match="retries rely on it"):
        _capture(client, reference)
    with pytest.raises(trustly.InvalidRequestError, match="retries rely on it"):
        client.transactions.deposit("1", body=DepositRequest(merchant_reference=reference, amount="1.00"))
    pre_auth = PreAuthRequest(merchant_reference=reference, period=1, amount="1.00", split_token="tok")
    with pytest.raises(trustly.InvalidRequestError, match="retries rely on it"):
        client.transactions.capture_pre_auth("1", body=pre_auth)
    assert recorder.requests == []


@pytest.mark.parametrize("key", ["", " "])
def test_dispute_recovery_needs_an_idempotency_key(key: str) -> None:
    recorder = Recorder(httpx.Response(500))
    body = DisputeRecoveryRequest(transaction_id="1", amount="1.00")
    with pytest.raises(trustly.InvalidRequestError, match="retries rely on it"):
        make_client(recorder).disputes.recover(body=body, idempotency_key=key)
    assert recorder.requests == []


# -- odd values: typed errors, never raw ones ------------------------------------------------
def test_non_ascii_header_values_are_refused() -> None:
    recorder = Recorder(httpx.Response(200, json=CAPTURED))
    body = DisputeRecoveryRequest(transaction_id="1", amount="1.00")
    with pytest.raises(trustly.InvalidRequestError, match="ASCII"):
        make_client(recorder).disputes.recover(body=body, idempotency_key="clé")
    with pytest.raises(trustly.ConfigurationError, match="ASCII"):
        make_client(recorder, headers={"X-Shop": "Café"})
    assert recorder.requests == []


def test_lone_surrogates_in_a_body_are_refused() -> None:
    recorder = Recorder(httpx.Response(200, json=CAPTURED))
    with pytest.raises(trustly.InvalidRequestError, match="not valid text") as caught:
        make_client(recorder).transactions.refund("1", body=RefundRequest(merchant_reference="r-\ud800", amount="1.00"))
    assert caught.value.field == "merchantReference"
    assert recorder.requests == []


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, 0])
def test_non_finite_timeouts_and_deadlines_are_configuration_errors(value: float) -> None:
    recorder = Recorder(httpx.Response(200, json=TRANSACTION))
    with pytest.raises(trustly.ConfigurationError):
        make_client(recorder, timeout=value)
    with pytest.raises(trustly.ConfigurationError):
        make_client(recorder, deadline=value)
    with pytest.raises(trustly.ConfigurationError):
        make_client(recorder).with_options(timeout=value)
    with pytest.raises(trustly.ConfigurationError):
        make_client(recorder, timeout=httpx.Timeout(5.0, read=value))


def test_an_argument_of_the_wrong_type_is_refused_before_sending() -> None:
    recorder = Recorder(httpx.Response(200, json=TRANSACTION))
    with pytest.raises(trustly.InvalidRequestError) as caught:
        make_client(recorder).transactions.list(order_by="not-an-enum")  # type: ignore[arg-type]
    assert caught.value.field == "orderBy"
    assert recorder.requests == []


@pytest.mark.parametrize("exc", [ZeroDivisionError(), RecursionError(), UnicodeEncodeError("ascii", "é", 0, 1, "x")])
def test_whatever_building_a_request_raises_is_refused_before_sending(exc: Exception) -> None:
    recorder = Recorder(httpx.Response(200, json=TRANSACTION))

    def broken(**arguments: Any) -> dict[str, Any]:
        raise exc

    sender = make_client(recorder).transactions._sender
    with pytest.raises(trustly.InvalidRequestError, match="cannot be sent"):
        sender.send("transactions_get", broken, transaction_id="1")
    assert recorder.requests == []


# -- cancellation ---------------------------------------------------------------------------
@pytest.mark.anyio
async def test_cancelling_an_in_flight_refund_reports_it_as_ambiguous(caplog: pytest.LogCaptureFixture) -> None:
    arrived = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await asyncio.sleep(3600)
        raise AssertionError("cancelled before")

    async with trustly.AsyncTrustlyClient(
        base_url="http://127.0.0.1:8765/api/v1", access_id="a", access_key="k", transport=httpx.MockTransport(hang)
    ) as client:
        task = asyncio.ensure_future(_refund(client))
        await arrived.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as caught:
            await task
        assert isinstance(caught.value.__cause__, trustly.AmbiguousOutcomeError)
        assert any("AmbiguousOutcomeError" in record.getMessage() for record in caplog.records)

        arrived.clear()
        read = asyncio.ensure_future(client.transactions.get("1"))
        await arrived.wait()
        read.cancel()
        with pytest.raises(asyncio.CancelledError) as safe:
            await read
        assert safe.value.__cause__ is None  # a read moves no money


def test_an_interrupted_refund_is_reported_on_the_interrupt() -> None:
    def interrupt(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    recorder = Recorder(interrupt)
    with pytest.raises(KeyboardInterrupt) as caught:
        _refund(make_client(recorder))
    assert isinstance(caught.value.__cause__, trustly.AmbiguousOutcomeError)


# -- on_ambiguous: the documented hook for outcomes the caller's except may never see ------------
@pytest.mark.anyio
async def test_a_cancelled_refund_reaches_on_ambiguous_before_the_cancellation_propagates() -> None:
    arrived = asyncio.Event()
    seen: list[tuple[trustly.AmbiguousOutcomeError, bool]] = []

    async def hang(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await asyncio.sleep(3600)
        raise AssertionError("cancelled before")

    def on_ambiguous(error: trustly.AmbiguousOutcomeError) -> None:
        seen.append((error, task.done()))

    async with make_async_client(hang, on_ambiguous=on_ambiguous) as client:
        task = asyncio.ensure_future(_refund(client.with_options(deadline=60)))  # copies keep the hook
        await arrived.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as caught:
            await task
        [(error, done_when_called)] = seen
        assert caught.value.__cause__ is error and not done_when_called
        assert error.merchant_reference == "r-1" and error.transaction_id == "1002633191"

        arrived.clear()
        read = asyncio.ensure_future(client.transactions.get("1"))
        await arrived.wait()
        read.cancel()
        with pytest.raises(asyncio.CancelledError):
            await read
    assert len(seen) == 1, "a cancelled read moves no money and is not reported"


def test_an_interrupted_refund_reaches_on_ambiguous() -> None:
    def interrupt(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    seen: list[trustly.AmbiguousOutcomeError] = []
    with pytest.raises(KeyboardInterrupt) as caught:
        _refund(make_client(Recorder(interrupt), on_ambiguous=seen.append))
    assert seen == [caught.value.__cause__]


def test_a_failing_on_ambiguous_changes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    def broken(error: trustly.AmbiguousOutcomeError) -> None:
        raise RuntimeError("the reconciliation queue is down")

    recorder = Recorder(httpx.RemoteProtocolError("reset"))
    with pytest.raises(trustly.AmbiguousOutcomeError) as caught:
        _refund(make_client(recorder, on_ambiguous=broken))
    assert len(recorder.requests) == 1
    assert any("on_ambiguous raised" in r.getMessage() and r.exc_info for r in caplog.records)
    assert caught.value.correlation_id is not None


@pytest.mark.parametrize("value", ["not callable", 3, object()])
def test_on_ambiguous_must_be_callable(value: Any) -> None:
    with pytest.raises(trustly.ConfigurationError, match="on_ambiguous"):
        make_client(Recorder(httpx.Response(200)), on_ambiguous=value)


# -- header values: every character, not just the quoted ones ---------------------------------
TLS = ssl.create_default_context()  # building one per generated client would dominate the run


def _h11_accepts(name: str, value: str) -> bool:
    import h11

    try:
        h11.Request(method="POST", target="/", headers=[("Host", "x"), (name, value)])
    except (h11.LocalProtocolError, UnicodeEncodeError):
        return False
    return True


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=40) | st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=20))
def test_any_idempotency_key_is_sent_as_it_is_or_refused_before_sending(key: str) -> None:
    recorder = Recorder(httpx.Response(200, json=CAPTURED))
    body = DisputeRecoveryRequest(transaction_id="1", amount="1.00")
    try:
        make_id_client(recorder).disputes.recover(body=body, idempotency_key=key)
    except trustly.InvalidRequestError:
        assert recorder.requests == []
        return
    (request,) = recorder.requests
    assert request.headers["Idempotency-Key"] == key
    assert _h11_accepts("Idempotency-Key", key), "an HTTP/1.1 connection would refuse to send it"


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=20), st.text(max_size=20) | st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=20))
def test_any_extra_header_is_kept_or_refused_when_the_client_is_built(name: str, value: str) -> None:
    recorder = Recorder(httpx.Response(200, json=TRANSACTION))
    try:
        client = make_client(recorder, headers={name: value}, verify=TLS)
    except trustly.ConfigurationError:
        return
    with client:
        client.transactions.get("1")
    (request,) = recorder.requests
    assert request.headers[name] == value
    assert _h11_accepts(name, value), "an HTTP/1.1 connection would refuse to send it"


@pytest.mark.parametrize("value", [" key", "key ", "\tkey", "ke\x01y", "key\x7f", "ké", "k\r\ney"])
def test_header_values_that_http_cannot_carry_are_refused(value: str) -> None:
    recorder = Recorder(httpx.Response(200, json=CAPTURED))
    body = DisputeRecoveryRequest(transaction_id="1", amount="1.00")
    with pytest.raises(trustly.InvalidRequestError, match="printable ASCII"):
        make_client(recorder).disputes.recover(body=body, idempotency_key=value)
    with pytest.raises(trustly.ConfigurationError, match="printable ASCII"):
        make_client(recorder, headers={"X-Shop": value})
    assert recorder.requests == []


@pytest.mark.parametrize("name", ["Host", "content-length", "Transfer-Encoding", "Connection", "AUTHORIZATION"])
def test_headers_the_client_sets_cannot_be_overridden(name: str) -> None:
    with pytest.raises(trustly.ConfigurationError, match="set by the client"):
        make_client(Recorder(httpx.Response(200)), headers={name: "elsewhere.example"})
