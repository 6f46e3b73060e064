"""Decoding a response body with the generated `from_dict`: its fast paths decide as the careful codecs do.

`from_dict` reads the body in place and builds the model with positional arguments, and the
codecs take a shortcut for what JSON carries (an `int` epoch, a `str` amount). Whatever a field
holds, valid or not, the model must end with the value the careful function (`Enum(value)`,
`decode_money`, `decode_time`) returns, or raise what it raises, named by the field's path;
the body itself is never changed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustly_api_client.models import (
    AccountRequest,
    Beneficiary,
    Currency,
    PaymentType,
    Transaction,
    TransactionStatus,
    TransactionType,
)
from trustly_api_client.types import InvalidFieldError, Timestamp, decode_money, decode_time

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

BASE: dict[str, Any] = {"transactionId": "1", "transactionType": "1", "status": "2", "createdAt": 1556234040954}
PAYMENT: dict[str, Any] = {"paymentId": "9", "paymentType": "Instant"}


def _enum(enum: type[Enum]) -> Callable[[Any, str], Any]:
    return lambda value, field: enum(value)


# (path in the body, the attribute path on the model, the careful decoder of that field)
FIELDS: list[tuple[tuple[str, ...], tuple[str, ...], Callable[[Any, str], Any]]] = [
    (("transactionType",), ("transaction_type",), _enum(TransactionType)),
    (("status",), ("status",), _enum(TransactionStatus)),
    (("currency",), ("currency",), _enum(Currency)),
    (("createdAt",), ("created_at",), decode_time),
    (("completedAt",), ("completed_at",), decode_time),
    (("amount",), ("amount",), decode_money),
    (("fee",), ("fee",), decode_money),
    (("payment", "paymentType"), ("payment", "payment_type"), _enum(PaymentType)),
    (("payment", "amount"), ("payment", "amount"), decode_money),
    (("payment", "createdAt"), ("payment", "created_at"), decode_time),
]

VALUES = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**16), max_value=10**16),
    st.integers(min_value=253_402_300_799_000, max_value=253_402_300_800_999),  # around datetime.max
    st.text(max_size=12),
    st.from_regex(r"-?[0-9]{1,8}(\.[0-9]{0,3})?", fullmatch=True),
    st.sampled_from(["1", "2", "Instant", "USD", "CAD", "NaN", "-Infinity", " 7.5 ", "1_000", "1e3"]),
    st.floats(),
    st.decimals(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _careful(decoder: Callable[[Any, str], Any], value: Any, field: str) -> tuple[str, Any]:
    try:
        return "value", decoder(value, field)
    except Exception as error:  # the outcome to compare: its type and message
        return "error", (type(error), str(error))


def _decoded(body: dict[str, Any], attributes: tuple[str, ...]) -> tuple[str, Any]:
    try:
        found: Any = Transaction.from_dict(body)
    except Exception as error:
        return "error", (type(error), str(error))
    for name in attributes:
        found = getattr(found, name)
    return "value", found


@SETTINGS
@given(st.sampled_from(FIELDS), VALUES)
def test_every_field_value_decodes_as_the_careful_codec_does(field: Any, value: Any) -> None:
    path, attributes, decoder = field
    body = copy.deepcopy(BASE)
    target = body
    if len(path) == 2:
        target = body[path[0]] = dict(PAYMENT)
    target[path[-1]] = value
    before = copy.deepcopy(body)
    outcome, got = _decoded(body, attributes)
    nullable = value is None and path[-1] not in ("transactionType", "status", "currency", "paymentType")
    if nullable:  # money and time fields take null as it is
        assert (outcome, got) == ("value", None)
    else:
        kind, expected = _careful(decoder, value, path[-1])
        if kind == "error" and expected[0] is InvalidFieldError:
            # From the model, the refusal names the whole path: `payment.amount`.
            expected = (InvalidFieldError, f"{'.'.join(path)}: {str(expected[1]).split(': ', 1)[1]}")
        assert (outcome, type(got) if outcome == "value" else None) == (
            kind,
            type(expected) if kind == "value" else None,
        )
        assert got == expected
        if isinstance(got, Timestamp):
            assert got.raw == expected.raw
    assert body == before  # read in place, never written to


def _reference_epoch(raw: int) -> datetime | None:
    """The plain definition: milliseconds (or seconds, below 10^11) after 1970-01-01 UTC."""
    millis = raw * 1000 if abs(raw) < 100_000_000_000 else raw
    try:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
    except OverflowError:
        return None


@SETTINGS
@given(
    st.one_of(
        st.integers(),
        st.integers(min_value=-62_135_596_800_001, max_value=253_402_300_800_000),
        st.integers(min_value=-100_000_000_001, max_value=100_000_000_001),
        st.sampled_from([-62_135_596_800_000, 253_402_300_799_999, 99_999_999_999, 100_000_000_000, -1, 0, 999]),
    )
)
def test_every_epoch_integer_decodes_to_its_utc_time_or_is_refused(raw: int) -> None:
    expected = _reference_epoch(raw)
    if expected is None:
        with pytest.raises(InvalidFieldError, match=r"^createdAt: .* is out of range for a time$"):
            decode_time(raw, "createdAt")
    else:
        decoded = decode_time(raw, "createdAt")
        assert type(decoded) is Timestamp and decoded == expected and decoded.raw == raw
        assert decoded.tzinfo is UTC and decoded.utcoffset() == timedelta(0)
        assert Timestamp.from_epoch(raw) == decoded


def test_unknown_fields_are_kept_in_order_and_not_shared_with_the_body() -> None:
    body = {**BASE, "zeta": 1, "amount": "1.00", "alpha": [2]}
    decoded = Transaction.from_dict(body)
    assert list(decoded.additional_properties.items()) == [("zeta", 1), ("alpha", [2])]
    decoded["zeta"] = 3
    assert body["zeta"] == 1 and "zeta" in body
    assert Transaction.from_dict(BASE).additional_properties == {}


@pytest.mark.parametrize(
    "body",
    [MappingProxyType(BASE), list(BASE.items()), {**BASE}],
    ids=["mapping", "pairs", "dict"],
)
def test_any_mapping_decodes_as_its_dict_does(body: Any) -> None:
    assert Transaction.from_dict(body) == Transaction.from_dict(dict(body))


@pytest.mark.parametrize("body", ["transactionId", 7, None, [1, 2]])
def test_a_body_that_is_no_mapping_fails_as_dict_would(body: Any) -> None:
    with pytest.raises((TypeError, ValueError)) as raised:
        Transaction.from_dict(body)
    with pytest.raises(type(raised.value)):
        dict(body)


def test_a_closed_schema_names_its_first_unknown_field() -> None:
    with pytest.raises(InvalidFieldError, match=r"^beta: is not a field of Beneficiary$"):
        Beneficiary.from_dict({"name": "A", "gamma": 1, "beta": 2})
    with pytest.raises(InvalidFieldError, match=r"^address\.city: expected str, not int$"):
        Beneficiary.from_dict({"address": {"city": 1}}).to_dict()
    decoded = Beneficiary.from_dict({"name": "A", "address": {"zzz": 1}})  # Address itself is open
    assert decoded.name == "A" and decoded.address["zzz"] == 1


def test_a_missing_required_nested_model_is_named_once() -> None:
    with pytest.raises(InvalidFieldError, match=r"^account: is required but missing$"):
        AccountRequest.from_dict({"merchantId": "1"})


def test_positional_construction_keeps_every_field_in_place() -> None:
    body = {
        **BASE,
        "statusMessage": "m",
        "statusCode": "c",
        "merchantReference": "r",
        "amount": "2.50",
        "ip": "1.2.3.4",
    }
    decoded = Transaction.from_dict(body)
    assert (decoded.transaction_id, decoded.status_message, decoded.status_code) == ("1", "m", "c")
    assert (decoded.merchant_reference, decoded.amount, decoded.ip) == ("r", Decimal("2.50"), "1.2.3.4")
    assert Transaction.from_dict(decoded.to_dict()) == decoded
