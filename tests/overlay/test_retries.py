"""Retries by retry class: never move money twice, always say what happened."""

from __future__ import annotations

import httpx
import pytest

import trustly
from tests.conftest import TRANSACTION
from tests.overlay.conftest import Recorder, make_async_client, make_client
from trustly.models import CaptureRequest, RefundRequest

CAPTURED = {**TRANSACTION, "transactionId": "2000", "transactionType": "3", "merchantReference": "cap-1"}
REFUNDED = {**TRANSACTION, "transactionId": "3000", "transactionType": "4", "merchantReference": "ref-1"}
DUPLICATE = {"errors": [{"domain": "com.trustly", "code": 210, "message": "Duplicate merchant reference"}]}


def capture(client: trustly.TrustlyClient) -> object:
    body = CaptureRequest(merchant_reference="cap-1", amount="10.00", split_token="tok")
    return client.transactions.capture("1002633191", body=body)


def refund(client: trustly.TrustlyClient) -> object:
    return client.transactions.refund("1002633191", body=RefundRequest(merchant_reference="ref-1", amount="5.00"))


def _ids(recorder: Recorder) -> set[str]:
    return {r.headers[trustly.CORRELATION_HEADER] for r in recorder.requests}


def test_not_sent_failures_are_retried_even_for_unsafe_operations(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.ConnectError("refused"), httpx.PoolTimeout("busy"), httpx.Response(200, json=REFUNDED))
    result = refund(make_client(recorder))
    assert result.transaction_id == "3000"  # type: ignore[attr-defined]
    assert len(recorder.requests) == 3 and len(sleeps) == 2
    assert len(_ids(recorder)) == 1, "one correlation id across the retries"


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset"),
        httpx.Response(500, json={"errors": [{"code": 500, "message": "boom"}]}),
        httpx.Response(503, headers={"Retry-After": "1"}),
    ],
    ids=["read-timeout", "disconnect", "reset", "500", "503"],
)
def test_unsafe_operation_is_never_retried_after_it_may_have_arrived(failure: object, sleeps: list[float]) -> None:
    recorder = Recorder(failure, httpx.Response(200, json=REFUNDED))  # type: ignore[arg-type]
    with pytest.raises(trustly.AmbiguousOutcomeError) as caught:
        refund(make_client(recorder))
    assert len(recorder.requests) == 1 and sleeps == []
    error = caught.value
    assert error.operation_id == "transactions_refund"
    assert error.merchant_reference == "ref-1"
    assert error.transaction_id == "1002633191"
    assert error.correlation_id in str(error)
    assert isinstance(error.__cause__, trustly.TrustlyError)


def test_idempotent_operation_is_retried_after_a_read_timeout(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.ReadTimeout("slow"), httpx.Response(200, json=CAPTURED))
    assert capture(make_client(recorder, unique_merchant_references=True)).transaction_id == "2000"  # type: ignore[attr-defined]
    assert len(recorder.requests) == 2
    first, second = recorder.requests
    assert first.content == second.content, "the retry repeats the same merchantReference"


def test_duplicate_answer_to_our_retry_resolves_to_the_transaction(sleeps: list[float]) -> None:
    def lookup(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/transactions"
        assert request.url.params["originalTransactionId"] == "1002633191"
        other = {**CAPTURED, "transactionId": "1999", "merchantReference": "cap-0"}
        return httpx.Response(200, json={"transactions": [other, CAPTURED]})

    recorder = Recorder(httpx.RemoteProtocolError("reset"), httpx.Response(400, json=DUPLICATE), lookup)
    client = make_client(recorder, unique_merchant_references=True)
    result = capture(client)
    assert result.transaction_id == "2000"  # type: ignore[attr-defined]
    assert len(recorder.requests) == 3
    first, retry, _lookup = (r.headers[trustly.CORRELATION_HEADER] for r in recorder.requests)
    assert first == retry


def test_duplicate_on_a_first_attempt_is_the_callers_error() -> None:
    recorder = Recorder(httpx.Response(400, json=DUPLICATE))
    with pytest.raises(trustly.DuplicateRequestError) as caught:
        capture(make_client(recorder))
    assert caught.value.code == 210 and len(recorder.requests) == 1


def test_idempotent_operation_out_of_retries_is_ambiguous(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(trustly.AmbiguousOutcomeError) as caught:
        capture(make_client(recorder, unique_merchant_references=True))
    assert len(recorder.requests) == 3, "first attempt + max_retries=2"
    assert isinstance(caught.value.__cause__, trustly.InternalServerError)
    assert caught.value.__cause__.body == b"<html>Bad Gateway</html>"


def test_safe_operation_exhausts_retries_with_the_status_error(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.Response(500, json={"errors": [{"code": 1, "message": "down"}]}))
    with pytest.raises(trustly.InternalServerError):
        make_client(recorder).transactions.get("1")
    assert len(recorder.requests) == 3 and len(sleeps) == 2


def test_retry_after_is_honoured_and_capped(sleeps: list[float]) -> None:
    recorder = Recorder(
        httpx.Response(503, headers={"Retry-After": "7"}),
        httpx.Response(429, headers={"Retry-After": "3600"}),
        httpx.Response(200, json=TRANSACTION),
    )
    make_client(recorder, deadline=1000).transactions.get("1")
    assert sleeps == [7.0, 60.0]


def test_rate_limit_is_retried_for_unsafe_operations(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json=REFUNDED))
    assert refund(make_client(recorder)).transaction_id == "3000"  # type: ignore[attr-defined]


def test_client_errors_are_not_retried(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.Response(400, json={"errors": [{"code": 200, "message": "invalid amount"}]}))
    with pytest.raises(trustly.BadRequestError):
        capture(make_client(recorder))
    assert len(recorder.requests) == 1 and sleeps == []


def test_max_retries_zero_per_call(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.ConnectError("refused"), httpx.Response(200, json=TRANSACTION))
    client = make_client(recorder)
    with pytest.raises(trustly.APIConnectionError):
        client.with_options(max_retries=0).transactions.get("1")
    assert len(recorder.requests) == 1


def test_connect_timeout_is_an_api_timeout_error(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.ConnectTimeout("slow"))
    with pytest.raises(trustly.APITimeoutError):
        make_client(recorder).transactions.get("1")
    assert len(recorder.requests) == 3


def test_the_deadline_bounds_all_attempts(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.Response(503, headers={"Retry-After": "30"}))
    with pytest.raises(trustly.InternalServerError):
        make_client(recorder, deadline=10).transactions.get("1")
    assert len(recorder.requests) == 1 and sleeps == [], "a wait past the deadline is not started"


def test_attempt_timeouts_are_cut_to_the_remaining_deadline() -> None:
    recorder = Recorder(httpx.Response(200, json=TRANSACTION))
    make_client(recorder, deadline=3).transactions.get("1")
    timeout = recorder.requests[0].extensions["timeout"]
    assert 0 < timeout["read"] <= 3 and 0 < timeout["connect"] <= 3


def test_unsupported_protocol_is_not_retried(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.UnsupportedProtocol("nope"))
    with pytest.raises(trustly.APIConnectionError):
        make_client(recorder).transactions.get("1")
    assert len(recorder.requests) == 1


def test_reconcile_after_an_ambiguous_refund(sleeps: list[float]) -> None:
    def lookup(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"transactions": [REFUNDED]})

    recorder = Recorder(httpx.ReadTimeout("slow"), lookup)
    client = make_client(recorder)
    with pytest.raises(trustly.AmbiguousOutcomeError) as caught:
        refund(client)
    found = client.reconcile(caught.value)
    assert found is not None and found.transaction_id == "3000"


def test_reconcile_finds_nothing_when_the_request_was_lost(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.ReadTimeout("slow"), httpx.Response(200, json={"transactions": []}))
    client = make_client(recorder)
    with pytest.raises(trustly.AmbiguousOutcomeError) as caught:
        refund(client)
    assert client.reconcile(caught.value) is None


@pytest.mark.anyio
async def test_async_retries_follow_the_same_rules(sleeps: list[float], backend: str) -> None:
    def lookup(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"transactions": [CAPTURED]})

    recorder = Recorder(httpx.ReadTimeout("slow"), httpx.Response(409, json=DUPLICATE), lookup)
    async with make_async_client(recorder, backend, unique_merchant_references=True) as client:
        body = CaptureRequest(merchant_reference="cap-1", amount="10.00", split_token="tok")
        result = await client.transactions.capture("1002633191", body=body)
        assert result.transaction_id == "2000"
        refund_recorder = Recorder(httpx.ReadTimeout("slow"))
    async with make_async_client(refund_recorder, backend) as client:
        with pytest.raises(trustly.AmbiguousOutcomeError):
            await client.transactions.refund("1", body=RefundRequest(merchant_reference="r", amount="1.00"))
    assert len(refund_recorder.requests) == 1
    assert len(sleeps) == 1
