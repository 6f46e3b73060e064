"""Sign what is sent: the establish signature always covers the exact values on the wire.

The client signs the Establish Data after it has serialised it, with the one rendering rule the
encoder used, so the signature cannot disagree with the body. These tests recompute the
signature from the bytes that reached the server, with an independent renderer written from
Trustly's sample signer (JavaScript semantics: falsy values left out, booleans in lower case).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trustly
from tests.conftest import ACCESS_ID, ACCESS_KEY, BASE_URL
from trustly._signatures import ESTABLISH_SIGNED_FIELDS
from trustly.models import (
    AccountType,
    AddressInput,
    Currency,
    CustomerInput,
    EstablishAccount,
    EstablishRequest,
    PaymentTypeName,
    RecurrenceInput,
    RecurrenceUnit,
    Verification,
    VerificationStatus,
)
from trustly.testing import Simulator, SimulatorTransport

from .conftest import Recorder, make_client

ESTABLISHED = {"url": "https://sandbox.trustly.one/start", "transactionId": "1002633191"}


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _js(value: Any) -> str | None:
    """How Trustly's sample signer writes a JSON value: None for a falsy one it leaves out."""
    if value is None or value is False or value == "" or (type(value) in (int, float) and value == 0):
        return None
    if value is True:
        return "true"
    return str(value)


def expected_signature(sent: dict[str, Any]) -> str:
    flat = _flatten(sent)
    pairs = [f"{k}={r}" for k in ESTABLISH_SIGNED_FIELDS if (r := _js(flat.get(k))) is not None]
    mac = hmac.new(ACCESS_KEY.encode(), "&".join(pairs).encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def _sent_body(recorder: Recorder) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(recorder.requests[-1].content)
    return body


def _request(**changes: Any) -> EstablishRequest:
    fields: dict[str, Any] = {
        "merchant_id": "1002463580",
        "merchant_reference": "order-1",
        "currency": Currency.USD,
        "payment_type": PaymentTypeName.DEFERRED,
        "return_url": "https://shop.example/return",
        "cancel_url": "https://shop.example/cancel",
    }
    fields.update(changes)
    return EstablishRequest(**fields)


# -- The reproductions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "signed"),
    [
        ({"amount": Decimal("10.5")}, "amount=10.50"),
        ({"amount": Decimal("1")}, "amount=1.00"),
        ({"amount": Decimal("0.00")}, "amount=0.00"),
        ({"minimum_balance": Decimal(0)}, "minimumBalance=0.00"),
        ({"account": EstablishAccount(type_=AccountType.OTHER)}, "account.type=0"),
    ],
)
def test_the_signed_value_is_the_sent_value(changes: dict[str, Any], signed: str) -> None:
    recorder = Recorder(httpx.Response(200, json=ESTABLISHED))
    client = make_client(recorder)
    client.transactions.establish(body=_request(**changes))
    sent = _sent_body(recorder)
    assert sent["requestSignature"] == expected_signature(sent)
    assert sent["accessId"] == ACCESS_ID
    name, value = signed.split("=")
    assert _flatten(sent)[name] == value
    assert signed in trustly.establish_string_to_sign(sent)


def test_lightbox_data_signed_by_the_client_is_accepted_as_it_is() -> None:
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY)
    client = trustly.TrustlyClient(
        base_url=BASE_URL, access_id=ACCESS_ID, access_key=ACCESS_KEY, transport=SimulatorTransport(sim)
    )
    request = _request(merchant_id=sim.merchant_id, amount=Decimal("10.5"), minimum_balance=Decimal(0))
    data = client.sign_establish_data(request)
    assert data["amount"] == "10.50" and data["minimumBalance"] == "0.00"
    # The browser hands Trustly exactly this data; the server-side establish sends the same.
    established = client.transactions.establish(body=EstablishRequest.from_dict(data))
    assert established.transaction_id


def test_a_hand_set_signature_that_does_not_cover_the_body_is_refused_before_sending() -> None:
    recorder = Recorder(httpx.Response(200, json=ESTABLISHED))
    client = make_client(recorder)
    stale = trustly.sign_establish_data(
        {"accessId": ACCESS_ID, "merchantId": "1002463580", "amount": "10.5", "currency": "USD"}, ACCESS_KEY
    )["requestSignature"]
    with pytest.raises(trustly.InvalidRequestError) as caught:
        client.transactions.establish(body=_request(amount=Decimal("10.5"), request_signature=stale))
    assert caught.value.field == "requestSignature"
    assert recorder.requests == []


def test_a_typo_in_establish_data_is_refused_naming_the_field() -> None:
    client = make_client(Recorder(httpx.Response(200, json=ESTABLISHED)))
    data = {
        "merchantId": "1",
        "merchantReferance": "order-1",
        "currency": "USD",
        "returnUrl": "https://shop.example/r",
        "cancelUrl": "https://shop.example/c",
    }
    with pytest.raises(trustly.InvalidRequestError) as caught:
        client.sign_establish_data(data)
    assert caught.value.field == "merchantReference"
    nested = {**data, "merchantReference": "order-1", "customer": {"nmae": "A"}}
    del nested["merchantReferance"]
    with pytest.raises(trustly.InvalidRequestError) as caught:
        client.sign_establish_data(nested)
    assert caught.value.field == "customer.nmae"
    # The same in a closed object (a beneficiary's bank), named from the top however deep.
    deep = {**nested, "customer": {}, "beneficiaryAccount": {"paymentProvider": {"routingNumbr": "124003116"}}}
    with pytest.raises(trustly.InvalidRequestError) as caught:
        client.sign_establish_data(deep)
    assert caught.value.field == "beneficiaryAccount.paymentProvider.routingNumbr"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"merchantId": "1"}, "body"),
        (_request(currency="USD"), "currency"),
        (_request(amount=10.5), "amount"),
        (_request(customer=CustomerInput(enroll_date=datetime(2020, 1, 1))), "customer.enrollDate"),
    ],
)
def test_misuse_is_an_invalid_request_naming_the_field(body: Any, field: str) -> None:
    recorder = Recorder(httpx.Response(200, json=ESTABLISHED))
    with pytest.raises(trustly.InvalidRequestError) as caught:
        make_client(recorder).transactions.establish(body=body)
    assert caught.value.field == field
    assert recorder.requests == []


# -- The property -----------------------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
_amount = st.integers(min_value=0, max_value=999_999_999).map(lambda c: Decimal(c).scaleb(-2))
_optional = st.none() | st.just("")


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.just(trustly.UNSET) | strategy


_customers = st.builds(
    CustomerInput,
    name=_text | _optional,
    external_id=_text,
    email=_text,
    enroll_date=st.datetimes(min_value=datetime(2000, 1, 1), timezones=st.just(UTC)).map(
        lambda d: d.replace(microsecond=0)
    ),
    address=st.builds(AddressInput, city=_text, zip_=_text | _optional),
)
_recurrences = st.builds(
    RecurrenceInput,
    frequency=st.integers(min_value=0, max_value=12),
    frequency_unit=st.integers(min_value=0, max_value=12),
    frequency_unit_type=st.sampled_from(RecurrenceUnit),
    recurring_amount=_amount,
    automatic_capture=st.booleans(),
)
# Built once: constructing strategies inside each draw costs more than the call under test.
establish_requests = st.builds(
    _request,
    merchant_reference=_text.filter(str.strip),  # a blank reference is refused: retries rely on it
    description=_maybe(_text),
    amount=_maybe(_amount),
    minimum_balance=_maybe(_amount),
    display_amount=_maybe(_text),
    currency=st.sampled_from(Currency),
    payment_type=_maybe(st.sampled_from(PaymentTypeName)),
    time_zone=_maybe(_text),
    customer=_maybe(_customers),
    account=_maybe(st.builds(EstablishAccount, type_=st.sampled_from(AccountType), account_number=_text)),
    verification=_maybe(
        st.builds(Verification, status=st.sampled_from(VerificationStatus), verify_customer=st.booleans())
    ),
    recurrence=_maybe(_recurrences),
)


PROPERTY_CASES = 2000
# One client for every case: building a client (its TLS context) costs more than a call.
_SHARED_RECORDER = Recorder(httpx.Response(200, json=ESTABLISHED))
_SHARED = (_SHARED_RECORDER, make_client(_SHARED_RECORDER))


@settings(max_examples=PROPERTY_CASES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(establish_requests)
def test_the_signature_verifies_over_what_is_actually_sent(request: EstablishRequest) -> None:
    recorder, client = _SHARED
    recorder.requests.clear()
    client.transactions.establish(body=request)
    sent = _sent_body(recorder)
    assert sent["requestSignature"] == expected_signature(sent)
    # The Lightbox data for the same request is the same body.
    assert client.sign_establish_data(request) == sent
