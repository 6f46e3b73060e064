from __future__ import annotations

from decimal import Decimal

import pytest

from trustly import InvalidRequestError, format_amount
from trustly._validation import prepare_request
from trustly_api_client.operations import OPERATIONS

CAPTURE = OPERATIONS["transactions_capture"]


@pytest.mark.parametrize(
    ("value", "text"),
    [(Decimal("10"), "10.00"), (Decimal("10.5"), "10.50"), ("0.01", "0.01"), ("12", "12.00"), (7, "7.00")],
)
def test_amounts(value: object, text: str) -> None:
    assert format_amount(value) == text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (10.0, "not float"),
        ("10.001", "two decimals"),
        (Decimal("10.001"), "more than two decimals"),
        ("-1.00", "non-negative"),
        (Decimal("-1"), "negative"),
        (Decimal("NaN"), "finite"),
        ("1e3", "two decimals"),
        (True, "not bool"),
        (["1"], "not list"),
    ],
)
def test_bad_amounts_name_the_field(value: object, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message) as caught:
        format_amount(value, "payment.amount")
    assert caught.value.field == "payment.amount"


def _capture(**data: object) -> dict[str, object]:
    return {"method": "post", "url": "/transactions/1/capture", "data": {"merchantReference": "m", **data}}


def test_request_amounts_are_normalised_and_floats_refused() -> None:
    assert prepare_request(CAPTURE, _capture(amount=Decimal("5")))["data"]["amount"] == "5.00"
    with pytest.raises(InvalidRequestError, match="amount"):
        prepare_request(CAPTURE, _capture(amount=5.0))
    with pytest.raises(InvalidRequestError) as caught:
        prepare_request(CAPTURE, _capture(metadata={"ratio": 0.5}))
    assert caught.value.field == "metadata.ratio"


def test_currency_and_urls() -> None:
    with pytest.raises(InvalidRequestError, match="ISO 4217") as caught:
        prepare_request(CAPTURE, _capture(currency="usd"))
    assert caught.value.field == "currency"
    with pytest.raises(InvalidRequestError, match="absolute") as url_error:
        prepare_request(CAPTURE, _capture(returnUrl="/relative"))
    assert url_error.value.field == "returnUrl"
    assert prepare_request(CAPTURE, _capture(returnUrl="https://m.example/ok"))


def test_empty_path_ids_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="non-empty") as caught:
        prepare_request(CAPTURE, {"method": "post", "url": "/transactions//capture", "data": {}})
    assert caught.value.field == "transactionId"


def test_the_callers_request_is_not_modified() -> None:
    request = _capture(amount=Decimal("1"))
    prepare_request(CAPTURE, request)
    assert request["data"] == {"merchantReference": "m", "amount": Decimal("1")}
