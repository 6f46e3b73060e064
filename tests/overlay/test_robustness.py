"""Bad responses and bad notifications give typed errors, never a crash; unknown values survive."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trustly
from tests.conftest import TRANSACTION
from tests.overlay.conftest import make_client
from trustly.models import Transaction
from trustly.webhooks import WebhookHandler, parse_event

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def mutated_transactions(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = dict(TRANSACTION)
    data["payment"] = {"paymentId": "p1", "paymentType": "2"}
    for key in draw(st.lists(st.sampled_from(sorted(data)), max_size=3, unique=True)):
        action = draw(st.sampled_from(["drop", "retype", "unknown"]))
        if action == "drop":
            data.pop(key)
        elif action == "retype":
            data[key] = draw(json_values)
        else:
            data[key] = draw(st.text(min_size=1, max_size=6))
    for key in draw(st.lists(st.text(min_size=1, max_size=10), max_size=3)):
        if key not in data:
            data[key] = draw(json_values)
    return data


class _Answer:
    status = 200
    body = b""


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(_Answer.status, content=_Answer.body, headers={"Content-Type": "application/json"})


# One client for every example: building one (its TLS context) costs more than the test itself.
CLIENT = make_client(_answer).with_options(max_retries=0)


def _get(body: bytes, status: int = 200) -> object:
    _Answer.status, _Answer.body = status, body
    return CLIENT.transactions.get("1")


@SETTINGS
@given(mutated_transactions())
def test_mutated_bodies_parse_or_raise_response_validation_error(data: dict[str, Any]) -> None:
    try:
        result = _get(json.dumps(data).encode())
    except trustly.ResponseValidationError as error:
        assert error.body == json.dumps(data).encode()
        return
    assert isinstance(result, Transaction)
    for key in set(data) - set(TRANSACTION) - {"payment"}:
        if not key[0].isalpha() or key not in Transaction.__annotations__:
            assert key in result.additional_properties or hasattr(result, key)


@SETTINGS
@given(
    st.text(min_size=1, max_size=8).filter(
        lambda s: s not in {"0", "1", "2", "3", "4", "5", "6", "7", "8", "10", "11", "12", "13", "14"}
    )
)
def test_unknown_enum_values_are_preserved(value: str) -> None:
    result = _get(json.dumps({**TRANSACTION, "status": value}).encode())
    assert isinstance(result, Transaction)
    assert result.status == value and result.status.is_unrecognized
    assert result.to_dict()["status"] == value


@SETTINGS
@given(
    st.binary(max_size=200)
    | st.sampled_from([b"", b"<html><body>502 Bad Gateway</body></html>", b'{"transactionId": "1", "sta'])
)
def test_garbage_bodies_are_typed_errors(body: bytes) -> None:
    try:
        _get(body)
    except trustly.ResponseValidationError:
        pass


@SETTINGS
@given(
    st.integers(min_value=400, max_value=599),
    st.binary(max_size=100) | json_values.map(lambda v: json.dumps(v).encode()),
)
def test_error_statuses_with_any_body_are_status_errors(status: int, body: bytes) -> None:
    try:
        _get(body, status=status)
    except (trustly.APIStatusError, trustly.AmbiguousOutcomeError) as error:
        assert isinstance(error, trustly.APIStatusError)
        assert error.status_code == status and error.body == body


HANDLER = WebhookHandler(access_key="k", access_id="a", on_event=lambda event: None)


@SETTINGS
@given(
    st.binary(max_size=300), st.dictionaries(st.sampled_from(["Authorization", "Content-Type"]), st.text(max_size=40))
)
def test_any_notification_gets_an_answer(body: bytes, headers: dict[str, str]) -> None:
    status, _, _ = HANDLER.handle(body, headers)
    assert status in (200, 400, 401, 413, 415)


@SETTINGS
@given(st.dictionaries(st.text(max_size=12), st.text(max_size=12), max_size=8), st.booleans())
def test_any_verified_body_parses_or_is_invalid(fields: dict[str, str], as_json: bool) -> None:
    from urllib.parse import urlencode

    body = json.dumps(fields).encode() if as_json else urlencode(fields).encode()
    try:
        event = parse_event(body, "application/json" if as_json else "application/x-www-form-urlencoded")
    except trustly.InvalidNotificationError:
        return
    assert event.event_id


def test_report_robustness_figures() -> None:
    from tests.conftest import REPORT

    REPORT.append(
        "robustness: 6 properties x up to 150 generated cases each (bodies, enums, statuses, notifications); "
        "every outcome a model or a typed error"
    )
