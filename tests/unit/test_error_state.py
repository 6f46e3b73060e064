"""Errors survive pickling with their fields (Celery results, multiprocessing), and reprs never raise."""

from __future__ import annotations

import inspect
import pickle

import pytest

import trustly
from trustly._errors import ErrorDetail, make_status_error

DETAIL = ErrorDetail(code=200, message="Invalid parameter", domain="com.trustly", location="amount", occurred_at=1)


def _examples() -> list[trustly.TrustlyError]:
    status = [
        make_status_error(
            status_code=code,
            body=b'{"errors": []}',
            method="POST",
            path="/transactions/{transactionId}/refund",
            correlation_id="c0ffee",
            retry_after=1.5,
            errors=(DETAIL,) if code != 210 else (ErrorDetail(code=210, message="dup"),),
        )
        for code in (400, 401, 403, 404, 409, 422, 429, 500, 503, 418, 210)
    ]
    return [
        *status,
        trustly.TrustlyError("plain"),
        trustly.ConfigurationError("bad"),
        trustly.InvalidRequestError("amount", "too many decimals"),
        trustly.APIConnectionError("reset", correlation_id="c1"),
        trustly.APITimeoutError("slow", correlation_id="c2"),
        trustly.ResponseTooLargeError("big", correlation_id="c3"),
        trustly.AmbiguousOutcomeError(
            "unknown",
            operation_id="transactions_refund",
            merchant_reference="r-1",
            transaction_id="7",
            correlation_id="c4",
        ),
        trustly.ResponseValidationError("bad body", operation_id="transactions_get", body=b"[]", correlation_id="c5"),
        trustly.SignatureVerificationError("no match"),
        trustly.InvalidNotificationError("unreadable"),
    ]


def test_every_public_error_class_is_covered() -> None:
    public = {obj for _, obj in inspect.getmembers(trustly, inspect.isclass) if issubclass(obj, trustly.TrustlyError)}
    covered = {type(error) for error in _examples()}
    assert public - covered == set()


@pytest.mark.parametrize("error", _examples(), ids=lambda e: type(e).__name__)
def test_errors_pickle_with_their_fields(error: trustly.TrustlyError) -> None:
    error.__cause__ = ValueError("cause")  # causes are not pickled by Python; the error itself must be
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args
    for name, value in vars(error).items():
        assert getattr(copy, name) == value, name
    if isinstance(error, trustly.APIStatusError):
        assert isinstance(copy, trustly.APIStatusError)
        assert copy.code == error.code and copy.errors == error.errors


@pytest.mark.parametrize("cls", [trustly.TrustlyClient, trustly.AsyncTrustlyClient])
def test_repr_never_raises_on_a_half_built_client(cls: type) -> None:
    half_built = object.__new__(cls)
    assert cls.__name__ in repr(half_built)

    class Failing(cls):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            raise RuntimeError(repr(self))  # a repr taken while __init__ has not finished

    with pytest.raises(RuntimeError, match="not configured"):
        Failing()
