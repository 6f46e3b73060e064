"""Error bodies from the network, documented or hostile, always become a typed error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import trustly
from trustly._errors import make_status_error, parse_error_details
from trustly.models import ErrorCode

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)


def _error(body: bytes, status: int = 400) -> trustly.APIStatusError:
    return make_status_error(
        status_code=status, body=body, method="GET", path="/countries", correlation_id="cid", retry_after=None
    )


HOSTILE = {
    "nested arrays": b"[" * 100_000 + b"]" * 100_000,
    "nested objects": b'{"errors":' * 50_000 + b"1" + b"}" * 50_000,
    "5000-digit code": b'{"errors":[{"code":' + b"9" * 5000 + b',"message":"m"}]}',
    "5000-digit occurredAt": b'{"code":200,"message":"m","occurredAt":' + b"1" * 5000 + b"}",
    "5000-digit string code": b'{"errors":[{"code":"' + b"7" * 5000 + b'","message":"m"}]}',
    "invalid UTF-8": b'{"errors":[{"code":200,"message":"\xff\xfe"}]}',
    "a JSON string": b'"Service Unavailable"',
    "a JSON number": b"503",
    "null": b"null",
    "huge float code": b'{"code":1e400,"message":"m"}',
    "NaN code": b'{"code":NaN,"message":"m"}',
    "message is an object": b'{"errors":[{"code":200,"message":{"text":"m"}}]}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("status", [200, 400, 500])
def test_hostile_bodies_give_a_typed_error(name: str, status: int) -> None:
    error = _error(HOSTILE[name], status)
    assert isinstance(error, trustly.APIStatusError)
    assert error.body == HOSTILE[name]
    assert len(str(error)) < 2000
    for detail in error.errors:
        assert detail.code is None or isinstance(detail.code, ErrorCode)


def test_long_numbers_are_dropped_not_fatal() -> None:
    (detail,) = parse_error_details(HOSTILE["5000-digit code"])
    assert detail.code is None and detail.message == "m"
    (detail,) = parse_error_details(HOSTILE["5000-digit occurredAt"])
    assert detail.code is ErrorCode.INVALID_PARAMETER and detail.occurred_at is None


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"errors": [{"code": 375, "message": "Access not authorized"}]}, ErrorCode.ACCESS_CONTROL_ERROR, None),
        (
            {"errorsList": [{"code": "330", "message": "m"}], "isInTrustlyNetwork": False},
            ErrorCode.INVALID_ACCOUNT,
            "m",
        ),
        ({"domain": "d", "code": 397.0, "message": "splitToken is not valid"}, ErrorCode.SPLIT_TOKEN_NOT_VALID, None),
        ({"message": "Invalid country"}, None, "Invalid country"),
        ({"errors": {"code": 100, "message": "m"}}, ErrorCode.INTERNAL_ERROR, "m"),
        ({"errors": [], "message": "fallback"}, None, "fallback"),
        ([{"code": 150, "message": "m"}], ErrorCode.REMOTE_ERROR, "m"),
    ],
)
def test_each_shape_fills_code_and_message(body: Any, code: ErrorCode | None, message: str | None) -> None:
    (detail,) = parse_error_details(json.dumps(body).encode())
    assert detail.code is code
    assert detail.message == (message or detail.message) and detail.message


def test_an_unknown_code_is_kept_as_unrecognized() -> None:
    error = _error(b'{"errors":[{"code":451,"message":"new"}]}')
    assert error.code == 451 and error.code is not None and error.code.is_unrecognized


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (200, trustly.BadRequestError),
        (375, trustly.AuthenticationError),
        (325, trustly.AuthenticationError),
        (100, trustly.InternalServerError),
        (210, trustly.DuplicateRequestError),
        (999, trustly.APIStatusError),
    ],
)
def test_an_error_on_a_2xx_is_classed_by_its_code(code: int, cls: type[trustly.APIStatusError]) -> None:
    error = _error(json.dumps({"errors": [{"code": code, "message": "m"}]}).encode(), status=200)
    assert type(error) is cls and error.status_code == 200 and error.code == code


KEYS = ["errors", "errorsList", "code", "message", "domain", "location", "occurredAt", "isInTrustlyNetwork", "x"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=12,
)


@SETTINGS
@given(value=json_values, status=st.sampled_from([200, 204, 400, 401, 404, 409, 429, 500, 503, 520]))
def test_any_json_body_gives_a_typed_error(value: Any, status: int) -> None:
    error = _error(json.dumps(value).encode(), status)
    assert isinstance(error, trustly.APIStatusError) and error.status_code == status
    for detail in error.errors:
        assert isinstance(detail.message, str) and len(detail.message) <= 1000
        assert detail.code is None or isinstance(detail.code, ErrorCode)


@SETTINGS
@given(body=st.binary(max_size=200))
def test_any_bytes_give_a_typed_error(body: bytes) -> None:
    assert isinstance(_error(body), trustly.BadRequestError)
