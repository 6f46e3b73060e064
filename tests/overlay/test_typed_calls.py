"""What the user types is what is sent: typed arguments, refused misuse, readable models.

Each reproduction from the field is a regression test here; the classes behind them (every
filter, every body, every money and time field) are covered by matrices.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

import trustly
from trustly.models import (
    CancelRequest,
    CaptureRequest,
    ReclaimRequest,
    RefundRequest,
    Transaction,
    TransactionStatus,
    TransactionType,
)

from .conftest import Recorder, make_client

TRANSACTION: dict[str, Any] = {
    "transactionId": "1002633191",
    "transactionType": "3",
    "status": "4",
    "createdAt": 1556234040954,
    "amount": "10.00",
}
PAGE = httpx.Response(200, json={"transactions": [TRANSACTION]})


def _form(request: httpx.Request) -> dict[str, list[str]]:
    """The body's fields, whichever media type the operation sends."""
    if request.headers.get("Content-Type", "").startswith("application/json"):
        return {k: [str(v)] for k, v in json.loads(request.content).items()}
    return parse_qs(request.content.decode(), keep_blank_values=True)


# -- Filters ----------------------------------------------------------------------------------


def test_a_misspelt_filter_is_refused_at_the_call_not_when_iterated() -> None:
    recorder = Recorder(PAGE)
    client = make_client(recorder)
    with pytest.raises(trustly.InvalidRequestError) as caught:
        client.transactions.list_all(transaction_stauts=[TransactionStatus.COMPLETED])  # type: ignore[call-arg]
    assert caught.value.field == "transaction_stauts"
    with pytest.raises(trustly.InvalidRequestError):
        client.transactions.pages(amount_mni=Decimal(1))  # type: ignore[call-arg]
    assert recorder.requests == []


def test_a_bare_enum_member_where_a_list_is_expected_is_one_item() -> None:
    recorder = Recorder(PAGE)
    client = make_client(recorder)
    status: Any = TransactionStatus.COMPLETED
    assert [t.transaction_id for t in client.transactions.list_all(transaction_status=status)] == ["1002633191"]
    assert recorder.requests[0].url.params.get_list("transactionStatus") == ["4"]


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"transaction_status": "4"}, "transactionStatus"),
        ({"transaction_status": ["4"]}, "transactionStatus"),
        ({"transaction_type": [TransactionStatus.COMPLETED]}, "transactionType"),
        ({"amount_min": 10.5}, "amount.min"),
        ({"amount_max": Decimal("1.005")}, "amount.max"),
        ({"paid_min": Decimal("-0")}, "paid.min"),
        ({"created_at_start": datetime(2024, 1, 1)}, "createdAt.start"),
        ({"created_at_end": "yesterday"}, "createdAt.end"),
        ({"payment_verification_status": "3"}, "payment.verification.status"),
        ({"original_transaction_id": 1002633191}, "originalTransactionId"),
    ],
)
def test_filters_that_cannot_be_sent_are_refused_naming_them(filters: dict[str, Any], field: str) -> None:
    recorder = Recorder(PAGE)
    client = make_client(recorder)
    for call in (client.transactions.list, client.transactions.list_all, client.transactions.pages):
        with pytest.raises(trustly.InvalidRequestError) as caught:
            call(**filters)
        assert caught.value.field == field
    assert recorder.requests == []


def test_money_and_time_filters_take_decimal_and_datetime() -> None:
    recorder = Recorder(PAGE)
    client = make_client(recorder)
    client.transactions.list(
        amount_min=Decimal("10"),
        amount_max="99.5",
        created_at_start=datetime(2019, 4, 25, 23, 14, 0, 954000, tzinfo=UTC),
        updated_at_end=1556234040954,
    )
    params = recorder.requests[0].url.params
    assert params["amount.min"] == "10.00" and params["amount.max"] == "99.50"
    assert params["createdAt.start"] == "1556234040954" and params["updatedAt.end"] == "1556234040954"


# -- Bodies -----------------------------------------------------------------------------------


def test_a_capture_takes_a_decimal_and_sends_two_decimals() -> None:
    recorder = Recorder(httpx.Response(200, json=TRANSACTION))
    client = make_client(recorder)
    client.transactions.capture(
        "1", body=CaptureRequest(merchant_reference="c-1", amount=Decimal("1"), split_token="t")
    )
    assert _form(recorder.requests[0])["amount"] == ["1.00"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (RefundRequest(merchant_reference="r", amount=None), "amount"),  # type: ignore[arg-type]
        (RefundRequest(merchant_reference="r", amount=["1.005", "999"]), "amount"),  # type: ignore[arg-type]
        (RefundRequest(merchant_reference="r", amount=Decimal("-0")), "amount"),
        (RefundRequest(merchant_reference="r", amount=Decimal("1E+20")), "amount"),
        (RefundRequest(merchant_reference=None), "merchantReference"),  # type: ignore[arg-type]
        (RefundRequest(merchant_reference=7), "merchantReference"),  # type: ignore[arg-type]
        ({"merchantReference": "r", "amount": "1.00"}, "body"),
        (CaptureRequest(merchant_reference="c", amount=Decimal(1), split_token="t"), "body"),
    ],
)
def test_bodies_that_cannot_be_sent_are_refused_before_anything_is(body: Any, field: str) -> None:
    recorder = Recorder(httpx.Response(200, json=TRANSACTION))
    with pytest.raises(trustly.InvalidRequestError) as caught:
        make_client(recorder).transactions.refund("1", body=body)
    assert caught.value.field == field
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("call", "kind"),
    [
        (lambda c: c.transactions.refund("1", body=RefundRequest(amount=Decimal("1.00"))), "refund"),
        (lambda c: c.transactions.reclaim("1", body=ReclaimRequest(amount=Decimal("1.00"))), "reclaim"),
        (lambda c: c.transactions.cancel("1", body=CancelRequest(message="late")), "cancel"),
        (lambda c: c.transactions.cancel("1"), "cancel"),
    ],
)
def test_refunds_reclaims_and_cancels_always_carry_a_merchant_reference(call: Any, kind: str) -> None:
    recorder = Recorder(httpx.Response(200, json=TRANSACTION))
    call(make_client(recorder))
    (reference,) = _form(recorder.requests[0])["merchantReference"]
    assert re.fullmatch(rf"trustly-py-{kind}-[0-9a-f]{{32}}", reference)


def test_a_given_merchant_reference_is_kept() -> None:
    recorder = Recorder(httpx.Response(200, json=TRANSACTION))
    make_client(recorder).transactions.refund("1", body=RefundRequest(merchant_reference="mine", amount=Decimal(1)))
    assert _form(recorder.requests[0])["merchantReference"] == ["mine"]


def test_an_ambiguous_refund_names_its_generated_reference() -> None:
    recorder = Recorder(httpx.ReadTimeout("lost"))
    with pytest.raises(trustly.AmbiguousOutcomeError) as caught:
        make_client(recorder, max_retries=0).transactions.refund("1", body=RefundRequest(amount=Decimal(1)))
    assert caught.value.merchant_reference == _form(recorder.requests[0])["merchantReference"][0]


def test_a_duplicate_request_error_carries_what_reconcile_needs() -> None:
    duplicate = httpx.Response(400, json={"errors": [{"code": 210, "message": "Duplicate merchantReference"}]})
    client = make_client(Recorder(duplicate, PAGE))
    body = CaptureRequest(merchant_reference="cap-1", amount=Decimal("10.00"), split_token="t")
    with pytest.raises(trustly.DuplicateRequestError) as caught:
        client.transactions.capture("1002633191", body=body)
    assert caught.value.merchant_reference == "cap-1" and caught.value.transaction_id == "1002633191"
    TRANSACTION_WITH_REF = {**TRANSACTION, "merchantReference": "cap-1"}
    client = make_client(Recorder(httpx.Response(200, json={"transactions": [TRANSACTION_WITH_REF]})))
    found = client.reconcile(caught.value)
    assert found is not None and found.merchant_reference == "cap-1"


# -- repr and str -----------------------------------------------------------------------------

FULL: dict[str, Any] = {
    **TRANSACTION,
    "currency": "USD",
    "payment": {
        "paymentId": "1002633190",
        "paymentType": "2",
        "account": {
            "accountNumber": "123456789012",
            "routingNumber": "124003116",
            "nameOnAccount": "John Smith",
            "type": "1",
        },
        "customer": {"customerId": "1", "taxId": "123-45-6789"},
    },
}


def test_a_transaction_prints_compactly_with_bank_numbers_masked() -> None:
    transaction = Transaction.from_dict(FULL)
    for text in (repr(transaction), str(transaction), f"{transaction}"):
        assert "UNSET" not in text and "123456789012" not in text and "124003116" not in text
        assert "123-45-6789" not in text
        assert "status=COMPLETED" in text and "transaction_type=CAPTURE" in text
        assert "'********9012'" in text and "'*****3116'" in text
        assert len(text) < 600
    assert f"{transaction.status}" == "COMPLETED" and str(TransactionType.CAPTURE) == "CAPTURE"
    assert transaction.status.value == "4"


def test_an_invalid_request_error_does_not_echo_bank_numbers() -> None:
    client = make_client(Recorder(PAGE))
    with pytest.raises(trustly.InvalidRequestError) as caught:
        client.transactions.list(account_number=123456789012)  # type: ignore[arg-type]
    assert caught.value.field == "accountNumber" and "123456789012" not in str(caught.value)


# -- Docs in the signature --------------------------------------------------------------------


def test_every_method_documents_its_arguments_errors_and_retry_class() -> None:
    import inspect

    from trustly_api_client.api import Api
    from trustly_api_client.operations import OPERATIONS

    client = make_client(Recorder(PAGE))
    checked = 0
    for operation in OPERATIONS.values():
        prefix = f"{operation.tag}_"
        name = operation.operation_id.removeprefix(prefix)
        method = getattr(getattr(client, operation.tag), name)
        doc = inspect.getdoc(method) or ""
        assert f"Retry class: {operation.retry.value}." in doc, operation.operation_id
        assert "InvalidRequestError" in doc and "APIStatusError" in doc
        if operation.retry.value != "safe":
            assert "AmbiguousOutcomeError" in doc
        for parameter in inspect.signature(method).parameters:
            assert f"{parameter} (" in doc, (operation.operation_id, parameter)
        checked += 1
    assert checked == len(OPERATIONS) == 31
    assert isinstance(client, Api)
    assert "body (CaptureRequest)" in (inspect.getdoc(client.transactions.capture) or "")
