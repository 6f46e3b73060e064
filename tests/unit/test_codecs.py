"""The money and time codecs every model, filter and signature goes through.

Money: whatever is accepted is sent as exactly two decimals and means the same amount; whatever
cannot be sent exactly (float, NaN, infinity, negative zero, a third decimal, too many digits,
a list) is refused with InvalidFieldError naming the field. Time: aware datetimes go out in the
unit of their field, epoch integers come back as UTC datetimes that keep the raw integer.
"""

from __future__ import annotations

import pickle
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, localcontext

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustly_api_client.models import CustomerInput, RefundRequest, Transaction
from trustly_api_client.types import (
    InvalidFieldError,
    Timestamp,
    decode_money,
    decode_time,
    encode_amount,
    encode_money,
    encode_time,
)

SETTINGS = settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
WIRE_AMOUNT = re.compile(r"^[0-9]{1,7}\.[0-9]{2}$")  # the spec's Amount pattern

# -- Money ------------------------------------------------------------------------------------

GOOD = [
    (Decimal("10.5"), "10.50"),
    (Decimal("1"), "1.00"),
    (Decimal("0.00"), "0.00"),
    (Decimal(0), "0.00"),
    (Decimal("1.000"), "1.00"),
    (Decimal("1E+2"), "100.00"),
    (Decimal("9999999.99"), "9999999.99"),
    ("10", "10.00"),
    (" 7.5 ", "7.50"),
    (12, "12.00"),
]

BAD = [
    (10.5, "not float"),
    (Decimal("NaN"), "finite"),
    (Decimal("sNaN"), "finite"),
    (Decimal("Infinity"), "finite"),
    (Decimal("-Infinity"), "finite"),
    (Decimal("-0"), "negative zero"),
    (Decimal("-0.00"), "negative zero"),
    (Decimal("-1"), "negative"),
    (Decimal("1.005"), "more than two decimals"),
    (Decimal("1E+20"), "digits before the decimal point"),
    (Decimal("10000000"), "digits before the decimal point"),
    (Decimal("1E-1000000"), "more than two decimals"),
    ("1.005", "two decimals"),
    ("1e3", "two decimals"),
    ("-1.00", "non-negative"),
    ("", "two decimals"),
    (True, "not bool"),
    (["1.005", "999"], "not list"),
    (None, "not NoneType"),
]


@pytest.mark.parametrize(("value", "wire"), GOOD)
def test_amounts_are_sent_with_exactly_two_decimals(value: object, wire: str) -> None:
    assert encode_amount(value, "amount") == wire
    assert WIRE_AMOUNT.match(wire)


@pytest.mark.parametrize(("value", "message"), BAD)
def test_amounts_that_cannot_be_sent_exactly_are_refused(value: object, message: str) -> None:
    with pytest.raises(InvalidFieldError, match=message) as caught:
        encode_amount(value, "refund.amount")
    assert caught.value.field == "refund.amount"


def test_the_callers_decimal_context_does_not_change_what_is_sent() -> None:
    with localcontext() as context:
        context.prec = 2
        assert encode_amount(Decimal("1234567.89")) == "1234567.89"


@SETTINGS
@given(st.decimals(allow_nan=True, allow_infinity=True) | st.floats() | st.text(max_size=12) | st.integers())
def test_every_input_is_sent_exactly_or_refused(value: object) -> None:
    try:
        wire = encode_amount(value)
    except InvalidFieldError:
        return
    assert WIRE_AMOUNT.match(wire), wire
    assert not isinstance(value, float)
    assert Decimal(wire) == Decimal(str(value).strip())


@SETTINGS
@given(st.integers(min_value=0, max_value=999_999_999), st.integers(min_value=-4, max_value=4))
def test_every_sendable_amount_round_trips(cents: int, shift: int) -> None:
    value = Decimal(cents).scaleb(-2).quantize(Decimal("0.01"))
    noisy = value.scaleb(shift).scaleb(-shift)  # the same number written with another exponent
    assert Decimal(encode_amount(noisy)) == value
    assert decode_money(encode_amount(noisy)) == value


def test_money_trustly_reports_keeps_its_scale_and_never_shows_an_exponent() -> None:
    assert decode_money("10.5") == Decimal("10.5") and encode_money(Decimal("10.5")) == "10.5"
    assert decode_money(12) == Decimal(12) and decode_money(0.1) == Decimal("0.1")
    assert encode_money(Decimal("1E+2")) == "100"
    for bad in ("ten", "NaN", "Infinity", None, [1]):
        with pytest.raises(InvalidFieldError):
            decode_money(bad, "balance")


# -- The reproductions, through the models ---------------------------------------------------


@pytest.mark.parametrize(
    "amount", [["1.005", "999"], Decimal("-0"), Decimal("1E+20"), 10.5, Decimal("1.005"), None, "1,00"]
)
def test_a_refund_amount_that_cannot_be_sent_is_refused_by_the_model(amount: object) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        RefundRequest(merchant_reference="r-1", amount=amount).to_dict()  # type: ignore[arg-type]
    assert caught.value.field == "amount"


def test_a_refund_without_amount_leaves_it_out() -> None:
    assert RefundRequest(merchant_reference="r-1").to_dict() == {"merchantReference": "r-1"}


def test_responses_decode_money_and_time() -> None:
    t = Transaction.from_dict(
        {"transactionId": "1", "transactionType": "3", "status": "4", "createdAt": 1556234040954, "amount": "10.5"}
    )
    assert t.amount == Decimal("10.5") and isinstance(t.amount, Decimal)
    assert t.created_at == datetime(2019, 4, 25, 23, 14, 0, 954000, tzinfo=UTC)
    assert t.to_dict()["createdAt"] == 1556234040954 and t.to_dict()["amount"] == "10.5"


def test_a_missing_required_key_names_the_field() -> None:
    with pytest.raises(InvalidFieldError, match="transactionId"):
        Transaction.from_dict({"transactionType": "3", "status": "4", "createdAt": 1})


# -- Time -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1556234040954, datetime(2019, 4, 25, 23, 14, 0, 954000, tzinfo=UTC)),  # docs' event createdAt (ms)
        ("1556234040954", datetime(2019, 4, 25, 23, 14, 0, 954000, tzinfo=UTC)),  # form bodies carry text
        (1234567890, datetime(2009, 2, 13, 23, 31, 30, tzinfo=UTC)),  # docs' enrollDate (seconds)
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_epoch_values_decode_by_magnitude(raw: object, expected: datetime) -> None:
    decoded = decode_time(raw)
    assert decoded == expected and decoded.tzinfo is not None
    assert isinstance(decoded, Timestamp) and decoded.raw == int(str(raw))


def test_each_field_is_sent_in_its_own_unit() -> None:
    moment = datetime(2009, 2, 13, 23, 31, 30, tzinfo=UTC)
    assert encode_time(moment, "epoch-ms") == 1234567890000
    assert encode_time(moment, "epoch-s") == 1234567890
    assert CustomerInput(enroll_date=moment).to_dict() == {"enrollDate": 1234567890}
    assert encode_time(moment.astimezone(timezone(timedelta(hours=-5))), "epoch-s") == 1234567890
    # A decoded time goes back out as the integer it came from.
    assert encode_time(decode_time(1556234040954), "epoch-ms") == 1556234040954
    assert encode_time(decode_time(1234567890), "epoch-s") == 1234567890


@pytest.mark.parametrize(
    ("value", "unit", "message"),
    [
        (datetime(2024, 1, 1), "epoch-ms", "no timezone"),
        (datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=UTC), "epoch-s", "fraction of a second"),
        ("2024-01-01", "epoch-ms", "not str"),
        (1.5, "epoch-ms", "not float"),
        (True, "epoch-ms", "not bool"),
    ],
)
def test_times_that_cannot_be_sent_are_refused(value: object, unit: str, message: str) -> None:
    with pytest.raises(InvalidFieldError, match=message):
        encode_time(value, unit, "createdAt.start")  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["soon", None, 10**30, "1.5"])
def test_unreadable_times_are_refused(raw: object) -> None:
    with pytest.raises(InvalidFieldError):
        decode_time(raw, "createdAt")


@SETTINGS
@given(st.datetimes(min_value=datetime(1974, 1, 1), max_value=datetime(2400, 1, 1), timezones=st.just(UTC)))
def test_millisecond_times_round_trip(moment: datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert decode_time(encode_time(moment, "epoch-ms")) == moment
    whole = moment.replace(microsecond=0)
    assert decode_time(encode_time(whole, "epoch-s")) == whole


def test_timestamps_pickle_with_their_raw_value() -> None:
    stamp = decode_time(1556234040954)
    copy = pickle.loads(pickle.dumps(stamp))  # noqa: S301 (our own bytes)
    assert copy == stamp and copy.raw == 1556234040954
