"""Answers Trustly's docs allow, fed through the client: each parses, or fails as the typed error it is.

Each case quotes the evidence its shape comes from (see the `# why:` comments in the spec).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import yaml

import trustly
from tests.conftest import TRANSACTION
from tests.contract.calls import Ids, every_operation
from tests.overlay.conftest import Recorder, make_client
from trustly._encoding import FORM, JSON
from trustly.models import (
    AccountProfile,
    AccountType,
    CustomerInput,
    DepositRequest,
    ErrorCode,
    EstablishRequest,
    Gender,
    KycType,
    OtherScreeningHit,
    PaymentCustomer,
    PaymentType,
    ReclaimRequest,
    RecurrenceUnit,
    SortOrder,
    WatchlistHit,
)
from trustly_api_client.operations import OPERATIONS
from trustly_api_client.types import Unset


def _json(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(data).encode(), headers={"Content-Type": "application/json"})


def _client(*answers: httpx.Response) -> tuple[trustly.TrustlyClient, Recorder]:
    recorder = Recorder(*answers)
    return make_client(recorder, max_retries=0), recorder


# The customer as Trustly embeds it: the signature vector's `customerId: ""`, or no id at all.
CUSTOMERS = [{"customerId": "", "name": "John Doe"}, {"externalId": "1234"}, {}]


def _with_customer(customer: dict[str, Any]) -> dict[str, Any]:
    payment = {"paymentId": "p1", "paymentType": "2", "customer": customer}
    return {**TRANSACTION, "payment": payment}


@pytest.mark.parametrize("customer", CUSTOMERS)
@pytest.mark.parametrize(
    ("operation", "answer"),
    [
        ("transactions_get", lambda c: _with_customer(c)),
        ("transactions_list", lambda c: {"transactions": [_with_customer(c)]}),
        ("payments_get", lambda c: _with_customer(c)["payment"]),
        ("payments_list", lambda c: {"payments": [_with_customer(c)["payment"]], "startIndex": 0, "itemsPerPage": 5}),
        ("transactions_establish", lambda c: {"url": "https://trustly.one/x", "transactionId": "1", "customer": c}),
    ],
)
def test_an_embedded_customer_without_an_id_parses(customer: dict[str, Any], operation: str, answer: Any) -> None:
    client, _ = _client(_json(answer(customer)))
    result = every_operation(client, Ids())[operation]()
    found = [value for value in _walk(result) if isinstance(value, PaymentCustomer)]
    assert len(found) == 1
    assert found[0].customer_id == customer.get("customerId", found[0].customer_id)


def _walk(value: Any) -> list[Any]:
    out = [value]
    for attribute in ("transactions", "payments", "payment", "customer"):
        inner = getattr(value, attribute, None)
        for item in inner if isinstance(inner, list) else [inner]:
            if item is not None and not isinstance(item, Unset):
                out.extend(_walk(item))
    return out


@pytest.mark.parametrize(
    ("operation", "listed"),
    [
        ("transactions_list", "transactions"),
        ("countries_list", "countries"),
        ("customers_list", "customers"),
        ("payment_providers_list", "payment_providers"),
    ],
)
def test_a_list_envelope_without_its_list_parses(operation: str, listed: str) -> None:
    client, _ = _client(_json({}))
    result = every_operation(client, Ids())[operation]()
    assert isinstance(getattr(result, listed), Unset)


def test_list_all_ends_on_an_envelope_without_its_list() -> None:
    client, recorder = _client(_json({"transactions": [TRANSACTION]}), _json({}))
    assert [t.transaction_id for t in client.transactions.list_all(page_size=1)] == ["1002633191"]
    client, recorder = _client(_json({}))
    assert list(client.payment_providers.list_all()) == []
    assert len(recorder.requests) == 1


# -- error shapes -------------------------------------------------------------------------------

ERROR = {"domain": "com.trustly.merchantgateway.v1.exception.InvalidParameterException", "code": 200, "message": "bad"}
SHAPES = {
    # Trustly's docs (errors page) for /accounts/tokenize, /accounts/verify and /countries.
    "message": ({"message": "Invalid routing number"}, None, None),
    # Trustly's docs and file for /customers/lookup.
    "errorsList": ({"isInTrustlyNetwork": False, "errorsList": [ERROR]}, 200, "bad"),
    # Trustly's file (BaseException) for /feedback and dispute recovery.
    "bare": (ERROR, 200, "bad"),
    "envelope": ({"errors": [ERROR]}, 200, "bad"),
}
DOCUMENTED = [
    ("accounts_tokenize", 400, "message"),
    ("accounts_verify", 400, "message"),
    ("countries_list", 400, "message"),
    ("customers_lookup", 400, "errorsList"),
    ("accounts_send_feedback", 400, "bare"),
    ("accounts_send_feedback", 500, "bare"),
    ("disputes_recover", 400, "bare"),
]


@pytest.mark.parametrize(
    ("operation", "status", "shape"), DOCUMENTED + [(op, s, "envelope") for op, s, _ in DOCUMENTED]
)
def test_every_documented_error_shape_is_the_same_typed_error(operation: str, status: int, shape: str) -> None:
    body, code, message = SHAPES[shape]
    client, _ = _client(_json(body, status))
    with pytest.raises(trustly.TrustlyError) as caught:
        every_operation(client, Ids())[operation]()
    # A 5xx to a write that may have been applied is ambiguous; the status error is its cause.
    error = caught.value.__cause__ if isinstance(caught.value, trustly.AmbiguousOutcomeError) else caught.value
    assert isinstance(error, trustly.APIStatusError)
    assert type(error) is (trustly.BadRequestError if status == 400 else trustly.InternalServerError)
    assert error.status_code == status and error.code == code
    assert error.errors[0].message == (message or body["message"])
    if code is not None:
        assert error.code is ErrorCode.INVALID_PARAMETER and error.errors[0].domain == ERROR["domain"]


@pytest.mark.parametrize("shape", ["errorsList", "bare", "envelope"])
@pytest.mark.parametrize("status", [200, 400, 409, 500])
def test_a_210_in_any_shape_is_a_duplicate(shape: str, status: int) -> None:
    duplicate = {"code": 210, "message": "This is a duplicate request. It has been ignored"}
    body = (
        {"errorsList": [duplicate]}
        if shape == "errorsList"
        else duplicate
        if shape == "bare"
        else {"errors": [duplicate]}
    )
    error = trustly._errors.make_status_error(
        status_code=status,
        body=json.dumps(body).encode(),
        method="POST",
        path="/x",
        correlation_id=None,
        retry_after=None,
    )
    assert isinstance(error, trustly.DuplicateRequestError) and error.code is ErrorCode.DUPLICATE_REQUEST


# -- codes typed as numbers upstream -----------------------------------------------------------


@pytest.mark.parametrize("number", [1, 1.0, "1"])
def test_numeric_codes_parse_in_every_form(number: Any) -> None:
    account = {"name": "Checking", "type": number, "profile": number}
    recurrence = {"frequencyUnit": 1, "frequencyUnitType": 3 if number != "1" else "3"}
    payment = {"paymentId": "p1", "paymentType": "2", "account": account, "recurrence": recurrence}
    client, _ = _client(_json({**TRANSACTION, "payment": payment}))
    transaction = client.transactions.get("1002633191")
    assert transaction.payment.account.type_ is AccountType.CHECKING  # type: ignore[union-attr]
    assert transaction.payment.account.profile is AccountProfile.PERSONAL  # type: ignore[union-attr]
    assert transaction.payment.recurrence.frequency_unit_type is RecurrenceUnit.CODE_3  # type: ignore[union-attr]


@pytest.mark.parametrize("payment_type", [2, 2.0, "2"])
def test_establish_echo_with_a_numeric_payment_type_and_kyc_type(payment_type: Any) -> None:
    client, _ = _client(_json({"url": "https://trustly.one/x", "paymentType": payment_type, "kycType": 1}))
    data = every_operation(client, Ids())["transactions_establish"]()
    assert data.payment_type is PaymentType.DEFERRED and data.kyc_type is KycType.ONLINE_BANKING  # type: ignore[attr-defined]


def test_screening_hits_without_a_type_and_with_a_gender_parse() -> None:
    hits = [[{"name": "A"}, {"screeningType": "1", "gender": "male"}, {"screeningType": "1", "gender": "x"}]]
    client, _ = _client(_json({"detail": {"verification": [{"screeningResult": hits}]}}))
    detail = client.identity.get_user_detail("1002633191")
    other, watchlist, unknown = detail.detail.verification[0].screening_result[0]  # type: ignore[union-attr,index]
    assert isinstance(other, OtherScreeningHit) and other.name == "A"
    assert isinstance(watchlist, WatchlistHit) and watchlist.gender is Gender.MALE
    assert isinstance(unknown, WatchlistHit) and unknown.gender.is_unrecognized and unknown.gender == "x"  # type: ignore[union-attr]


# -- requests the docs describe --------------------------------------------------------------------


def test_deposit_sends_a_split_token_and_reclaim_may_omit_its_amount() -> None:
    client, recorder = _client(_json(TRANSACTION))
    client.transactions.deposit("1", body=DepositRequest(merchant_reference="d-1", amount="5.00", split_token="a+b/c"))
    client.transactions.reclaim("2", body=ReclaimRequest(merchant_reference="r-1"))
    deposit, reclaim = (json.loads(r.content) for r in recorder.requests)
    assert deposit == {"merchantReference": "d-1", "amount": "5.00", "splitToken": "a+b/c"}
    assert reclaim == {"merchantReference": "r-1"}


def test_establish_account_and_customer_fields_the_signature_covers_are_sent() -> None:
    client, recorder = _client(_json({"url": "https://trustly.one/x"}))
    data = client.sign_establish_data(
        {
            "merchantId": "m", "merchantReference": "r", "currency": "USD", "returnUrl": "https://s.example/r",
            "cancelUrl": "https://s.example/c",
            "account": {"name": "Checking", "nameOnAccount": "John", "profile": "1", "type": "1"},
            "customer": {"merchantId": "m", "name": "John"},
        }
    )  # fmt: skip
    client.transactions.establish(body=EstablishRequest.from_dict(data))
    sent = json.loads(recorder.requests[0].content)
    assert sent["account"] == {"name": "Checking", "nameOnAccount": "John", "profile": "1", "type": "1"}
    assert sent["customer"] == {"merchantId": "m", "name": "John"}
    assert "account.nameOnAccount=John" in trustly.establish_string_to_sign(data)
    assert CustomerInput.from_dict({"merchantId": None}).merchant_id is None


def test_paging_defaults_are_trustlys() -> None:
    client, recorder = _client(_json({"payments": [], "startIndex": 0, "itemsPerPage": 25}))
    client.payments.list()
    assert recorder.requests[0].url.params["count"] == "25"
    # Omitted, sortOrder is Trustly's documented default, which the spec records.
    assert "sortOrder" not in recorder.requests[0].url.params
    spec = yaml.safe_load((Path(__file__).resolve().parents[2] / "spec" / "trustly-openapi.yaml").read_text())
    assert spec["components"]["schemas"]["SortOrder"]["default"] == SortOrder.DESC


def test_instant_is_documented_as_deprecated() -> None:
    assert "deprecated" in (PaymentType.__doc__ or "")


# -- body media types, per operation ----------------------------------------------------------------


def test_each_write_sends_the_media_type_its_evidence_supports() -> None:
    client, recorder = _client(_json({**TRANSACTION, "refresh": {"processId": "p"}}))
    calls = every_operation(client, Ids())
    for operation in ("transactions_capture", "transactions_deposit", "transactions_refund", "transactions_refresh"):
        calls[operation]()
    sent = [r.headers["Content-Type"] for r in recorder.requests]
    assert sent == [FORM, JSON, JSON, FORM]
    assert OPERATIONS["transactions_capture"].alternate_content_type == JSON
    assert OPERATIONS["transactions_deposit"].alternate_content_type == FORM


def test_a_user_switches_an_operations_media_type_without_regenerating() -> None:
    switched = {"transactions_capture": JSON, "transactions_deposit": FORM}
    recorder = Recorder(_json(TRANSACTION))
    client = make_client(recorder, content_types=switched)
    calls = every_operation(client, Ids())
    calls["transactions_capture"]()
    calls["transactions_deposit"]()
    capture, deposit = recorder.requests
    assert capture.headers["Content-Type"] == JSON
    assert json.loads(capture.content) == {
        "merchantReference": "cap-c",
        "amount": "1.00",
        "splitToken": Ids().split_token,
    }
    assert deposit.headers["Content-Type"] == FORM
    assert dict(parse_qsl(deposit.content.decode())) == {"merchantReference": "dep-c", "amount": "5.00"}
    # with_options switches back (the spec's own type) or further, sharing the pool.
    every_operation(client.with_options(content_types={"transactions_capture": FORM}), Ids())["transactions_capture"]()
    assert recorder.requests[-1].headers["Content-Type"] == FORM


@pytest.mark.parametrize(
    "choice",
    [{"transactions_get": JSON}, {"no_such_operation": JSON}, {"transactions_capture": "text/plain"}],
)
def test_a_media_type_the_spec_does_not_declare_is_refused(choice: dict[str, str]) -> None:
    with pytest.raises(trustly.ConfigurationError, match="content_types"):
        make_client(Recorder(_json(TRANSACTION)), content_types=choice)
