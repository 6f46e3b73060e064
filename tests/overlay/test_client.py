"""The client end to end over httpx.MockTransport: requests out, models or typed errors back."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import ssl
from decimal import Decimal

import httpx
import pytest

import trustly
from tests.conftest import ACCESS_ID, ACCESS_KEY, TRANSACTION
from tests.overlay.conftest import Recorder, make_async_client, make_client
from trustly.models import CaptureRequest, Transaction, TransactionStatus


def test_get_transaction_end_to_end() -> None:
    recorder = Recorder(httpx.Response(200, json=TRANSACTION))
    with make_client(recorder) as client:
        transaction = client.transactions.get("1002633191")
    assert isinstance(transaction, Transaction)
    assert transaction.status is TransactionStatus.AUTHORIZED
    (request,) = recorder.requests
    assert request.method == "GET"
    assert request.url == "http://127.0.0.1:8765/api/v1/transactions/1002633191"
    expected = base64.b64encode(f"{ACCESS_ID}:{ACCESS_KEY}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["User-Agent"].startswith(f"trustly-api-client/{trustly.__version__} Python/")
    assert len(request.headers[trustly.CORRELATION_HEADER]) == 32


@pytest.mark.parametrize(
    "set_cookie",
    ["session=abc; Path=/", "AWSALB=xyz; Path=/; Expires=Wed, 01 Jan 2099 00:00:00 GMT", "a=1; Domain=127.0.0.1"],
)
def test_no_cookie_a_server_sets_is_sent_back(set_cookie: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=TRANSACTION, headers={"Set-Cookie": set_cookie})

    sync_recorder = Recorder(answer)
    with make_client(sync_recorder) as client:
        client.transactions.get("1002633191")
        client.transactions.get("1002633191")
    async_recorder = Recorder(answer)

    async def twice() -> None:
        async with make_async_client(async_recorder) as client:
            await client.transactions.get("1002633191")
            await client.transactions.get("1002633191")

    asyncio.run(twice())
    for request in sync_recorder.requests + async_recorder.requests:
        assert "Cookie" not in request.headers
    assert len(sync_recorder.requests) == len(async_recorder.requests) == 2


@pytest.mark.parametrize("collecting", [True, False])
@pytest.mark.parametrize("body", [json.dumps(TRANSACTION).encode(), b'{"transactionId": 1', b"[" * 100_000])
def test_decoding_leaves_the_garbage_collector_as_it_found_it(collecting: bool, body: bytes) -> None:
    import gc

    seen: list[bool] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(gc.isenabled())
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    was = gc.isenabled()
    (gc.enable if collecting else gc.disable)()
    try:
        with make_client(answer) as client:
            try:
                client.transactions.get("1002633191")
            except trustly.ResponseValidationError:
                pass
            assert gc.isenabled() is collecting
    finally:
        (gc.enable if was else gc.disable)()
    assert seen == [collecting]  # paused for decoding only, never while sending


def test_capture_sends_a_form_body_with_a_decimal_amount() -> None:
    recorder = Recorder(httpx.Response(200, json={**TRANSACTION, "transactionType": "3"}))
    client = make_client(recorder)
    body = CaptureRequest(merchant_reference="cap-1", amount=Decimal("25.5"), split_token="tok")  # type: ignore[arg-type]
    captured = client.transactions.capture("1002633191", body=body)
    assert captured.transaction_type.name == "CAPTURE"
    request = recorder.requests[0]
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.content == b"merchantReference=cap-1&amount=25.50&splitToken=tok"


def test_a_float_amount_is_refused_before_sending() -> None:
    recorder = Recorder(httpx.Response(200, json=TRANSACTION))
    client = make_client(recorder)
    with pytest.raises(trustly.InvalidRequestError, match="not float") as caught:
        client.transactions.capture(
            "1",
            body=CaptureRequest(merchant_reference="m", amount=25.5, split_token="t"),  # type: ignore[arg-type]
        )
    assert caught.value.field == "amount"
    assert recorder.requests == []


def test_list_query_parameters() -> None:
    recorder = Recorder(httpx.Response(200, json={"transactions": []}))
    client = make_client(recorder)
    client.transactions.list(count=50, start_index=100, transaction_status=[TransactionStatus.AUTHORIZED])
    params = recorder.requests[0].url.params
    assert params["count"] == "50" and params["startIndex"] == "100"
    assert params.get_list("transactionStatus") == ["2"]


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, trustly.BadRequestError), (401, trustly.AuthenticationError), (404, trustly.NotFoundError)],
)
def test_error_statuses_raise_typed_errors(status: int, cls: type[trustly.APIStatusError]) -> None:
    body = {"errors": [{"domain": "com.trustly", "code": 330, "message": "nope", "location": "transactionId"}]}
    recorder = Recorder(httpx.Response(status, json=body))
    client = make_client(recorder)
    with pytest.raises(cls) as caught:
        client.transactions.get("1")
    error = caught.value
    assert error.status_code == status and error.code == 330
    assert error.errors[0].location == "transactionId"
    assert error.correlation_id == recorder.requests[0].headers[trustly.CORRELATION_HEADER]
    assert error.path == "/transactions/{transactionId}"
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "body", [b"", b"<html>oops</html>", b'{"transactionId": 1', b"[]", b'{"transactionId": "1"}', b'{"status": {}}']
)
def test_a_bad_success_body_is_a_response_validation_error(body: bytes) -> None:
    client = make_client(Recorder(httpx.Response(200, content=body)))
    with pytest.raises(trustly.ResponseValidationError) as caught:
        client.transactions.get("1")
    assert caught.value.body == body
    assert caught.value.correlation_id


def test_unexpected_status_from_the_generated_code_never_escapes() -> None:
    client = make_client(Recorder(httpx.Response(302, headers={"Location": "https://elsewhere"})))
    with pytest.raises(trustly.APIStatusError) as caught:
        client.transactions.get("1")
    assert caught.value.status_code == 302


def test_construction_errors() -> None:
    with pytest.raises(trustly.ConfigurationError, match="missing Trustly credentials"):
        trustly.TrustlyClient(environment=trustly.Environment.SANDBOX)
    with pytest.raises(trustly.ConfigurationError, match="no environment"):
        trustly.TrustlyClient(access_id="a", access_key="k")
    with pytest.raises(trustly.ConfigurationError, match="https"):
        trustly.TrustlyClient(access_id="a", access_key="k", base_url="http://trustly.one/api/v1")
    with pytest.raises(trustly.ConfigurationError, match="cannot be turned off"):
        trustly.TrustlyClient(access_id="a", access_key="k", environment="sandbox", verify=False)
    with pytest.raises(trustly.ConfigurationError, match="does not exist"):
        trustly.TrustlyClient(access_id="a", access_key="k", environment="sandbox", verify="/no/such/ca.pem")
    with pytest.raises(trustly.ConfigurationError, match="timeout"):
        trustly.TrustlyClient(access_id="a", access_key="k", environment="sandbox", timeout=-1)
    with pytest.raises(trustly.ConfigurationError, match="max_retries"):
        trustly.TrustlyClient(access_id="a", access_key="k", environment="sandbox", max_retries=-1)


def test_environment_variables_configure_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTLY_ACCESS_ID", "env-id")
    monkeypatch.setenv("TRUSTLY_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setenv("TRUSTLY_ENVIRONMENT", "sandbox")
    client = trustly.TrustlyClient(verify=ssl.create_default_context())
    assert client.access_id == "env-id"
    assert str(client.base_url) == "https://sandbox.trustly.one/api/v1"
    assert ACCESS_KEY not in repr(client)


def test_one_pool_shared_by_with_options_and_idempotent_close() -> None:
    recorder = Recorder(httpx.Response(200, json=TRANSACTION))
    client = make_client(recorder)
    fast = client.with_options(timeout=2.0, max_retries=0)
    client.transactions.get("1")
    fast.transactions.get("1")
    assert client._pool is fast._pool
    assert fast._policy.max_retries == 0 and client._policy.max_retries == 2
    assert recorder.requests[1].extensions["timeout"]["read"] == 2.0
    assert recorder.requests[0].extensions["timeout"]["read"] == 30.0
    pooled = client._pool.get()
    client.close()
    client.close()
    assert pooled.is_closed
    with pytest.raises(trustly.ConfigurationError, match="closed"):
        fast.transactions.get("1")


def test_pool_is_rebuilt_after_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(Recorder(httpx.Response(200, json=TRANSACTION)))
    before = client._pool.get()
    real_pid = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: real_pid + 1)
    after = client._pool.get()
    assert after is not before
    client.transactions.get("1")


def test_resources_cover_every_operation() -> None:
    from trustly_api_client.operations import OPERATIONS

    client = make_client(Recorder(httpx.Response(200, json={})))
    for name, op in OPERATIONS.items():
        method = name.removeprefix(op.tag + "_")
        assert callable(getattr(getattr(client, op.tag), method)), name


@pytest.mark.anyio
async def test_async_client_end_to_end() -> None:
    recorder = Recorder(httpx.Response(404, json={"errors": []}), httpx.Response(200, json=TRANSACTION))
    async with make_async_client(recorder) as client:
        with pytest.raises(trustly.NotFoundError):
            await client.transactions.get("missing")
        transaction = await client.transactions.get("1002633191")
        copy = client.with_options(max_retries=0)
        assert copy._pool is client._pool
    assert transaction.transaction_id == "1002633191"
    assert client._pool.closed
    await client.close()


def test_json_bodies_for_customers() -> None:
    from trustly.models import CustomerInput

    recorder = Recorder(httpx.Response(200, json={"customer": {"customerId": "c1"}}))
    client = make_client(recorder)
    created = client.customers.create(body=CustomerInput(external_id="ext-1", name="Ada"))
    assert created.customer.customer_id == "c1"
    request = recorder.requests[0]
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content)["externalId"] == "ext-1"
