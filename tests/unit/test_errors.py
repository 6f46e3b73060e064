from __future__ import annotations

import json

import pytest

import trustly
from trustly._errors import make_status_error, parse_error_details


def _error(status: int, body: object, **kw: object) -> trustly.APIStatusError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return make_status_error(
        status_code=status,
        body=raw,
        method="POST",
        path="/transactions/{transactionId}/capture",
        correlation_id="cid-1",
        retry_after=None,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, trustly.BadRequestError),
        (401, trustly.AuthenticationError),
        (403, trustly.PermissionDeniedError),
        (404, trustly.NotFoundError),
        (409, trustly.ConflictError),
        (422, trustly.UnprocessableEntityError),
        (429, trustly.RateLimitError),
        (500, trustly.InternalServerError),
        (503, trustly.InternalServerError),
        (418, trustly.APIStatusError),
    ],
)
def test_one_class_per_status_family(status: int, cls: type[trustly.APIStatusError]) -> None:
    error = _error(status, {"errors": [{"domain": "com.trustly", "code": 200, "message": "bad amount"}]})
    assert type(error) is cls
    assert error.status_code == status and error.code == 200
    assert "cid-1" in str(error) and "bad amount" in str(error)


def test_code_210_is_a_duplicate_whatever_the_status() -> None:
    error = _error(400, {"errors": [{"code": 210, "message": "Duplicate merchant reference"}]})
    assert isinstance(error, trustly.DuplicateRequestError)
    assert isinstance(error, trustly.APIStatusError)


def test_envelope_fields_are_parsed() -> None:
    (detail,) = parse_error_details(
        json.dumps(
            {"errors": [{"domain": "d", "code": "375", "message": "denied", "location": "amount", "occurredAt": 17}]}
        ).encode()
    )
    assert detail == trustly.ErrorDetail(code=375, message="denied", domain="d", location="amount", occurred_at=17)
    assert str(detail) == "[375] denied (at amount)"


@pytest.mark.parametrize(
    ("body", "count"),
    [
        (b"<html>502 Bad Gateway</html>", 0),
        (b"", 0),
        (b"[1, 2]", 0),
        (b'{"errorsList": [{"code": 330, "message": "not found"}]}', 1),
        (b'{"message": "Unauthorized"}', 1),
        (b'{"errors": [null, 3, {"message": "ok"}]}', 1),
        (b'{"errors": "nope"}', 0),
    ],
)
def test_other_shapes_never_crash(body: bytes, count: int) -> None:
    assert len(parse_error_details(body)) == count
    error = _error(502, body)
    assert error.body == body and isinstance(error, trustly.InternalServerError)


def test_hierarchy() -> None:
    assert issubclass(trustly.APITimeoutError, trustly.APIConnectionError)
    assert issubclass(trustly.InvalidRequestError, ValueError)
    assert issubclass(trustly.ConfigurationError, ValueError)
    for cls in (trustly.AmbiguousOutcomeError, trustly.ResponseValidationError, trustly.SignatureVerificationError):
        assert issubclass(cls, trustly.TrustlyError)
