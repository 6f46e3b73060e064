"""Every error the client raises.

Our exception hierarchy:

* TrustlyError
  + ConfigurationError          the client was set up wrongly (also a ValueError)
  + InvalidRequestError         an argument is invalid; nothing was sent (also a ValueError)
  + APIConnectionError          no usable HTTP answer arrived
  | - APITimeoutError
  | - ResponseTooLargeError     the answer is longer than the client's size cap
  + AmbiguousOutcomeError       a money-moving request may or may not have been applied
  + APIStatusError              Trustly answered with an error status
  | - BadRequestError           400
  | - AuthenticationError       401
  | - PermissionDeniedError     403
  | - NotFoundError             404
  | - ConflictError             409
  | - UnprocessableEntityError  422
  | - RateLimitError            429
  | - InternalServerError       5xx
  | - DuplicateRequestError     Trustly error code 210, whatever the status
  + ResponseValidationError     a 2xx body does not fit its model
  + SignatureVerificationError  a notification or redirect signature does not verify
  + InvalidNotificationError    a verified notification body cannot be read as an event

Errors carry the correlation id the client sent with the request (Trustly returns no request
id of its own), so a log line and an exception can be matched. None of them ever contains the
access key or an Authorization header.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

from trustly_api_client.models.error_code import ErrorCode

from ._error_body import bounded_int, error_items, text_of

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AmbiguousOutcomeError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "DuplicateRequestError",
    "ErrorDetail",
    "InternalServerError",
    "InvalidNotificationError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "SignatureVerificationError",
    "TrustlyError",
    "UnprocessableEntityError",
]

DUPLICATE_REQUEST_CODE = 210


class TrustlyError(Exception):
    """The root of every error this package raises.

    Every error pickles with its fields (Celery results, multiprocessing queues): the keyword
    arguments our subclasses take do not survive `Exception`'s default pickling, which calls
    the class with `args` alone.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[TrustlyError], args: tuple[Any, ...], state: dict[str, Any]) -> TrustlyError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigurationError(TrustlyError, ValueError):
    """The client cannot be built as asked: missing credentials, no environment, a non-HTTPS URL."""


class InvalidRequestError(TrustlyError, ValueError):
    """An argument is invalid; the request was not sent.

    `field` names the offending argument or body field.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class APIConnectionError(TrustlyError):
    """No usable HTTP response arrived (connection refused or reset, TLS failure, protocol error)."""

    def __init__(self, message: str, *, correlation_id: str | None = None) -> None:
        super().__init__(_with_id(message, correlation_id))
        self.correlation_id = correlation_id


class APITimeoutError(APIConnectionError):
    """A timeout or the call's deadline expired before a response arrived."""


class ResponseTooLargeError(APIConnectionError):
    """The answer was longer than `max_response_bytes`; it was not read to its end.

    Retrying would bring the same answer, so the call ends here; for a request that moves
    money this error is the cause of an `AmbiguousOutcomeError`.
    """


class AmbiguousOutcomeError(TrustlyError):
    """A request that moves money failed after it may have reached Trustly.

    The client does not retry it, because a second attempt could move money twice. Look the
    transaction up (`TrustlyClient.reconcile`, or `transactions.list` filtered by
    merchantReference) before trying again.
    """

    def __init__(
        self,
        message: str,
        *,
        operation_id: str,
        merchant_reference: str | None,
        transaction_id: str | None,
        correlation_id: str | None,
    ) -> None:
        super().__init__(_with_id(message, correlation_id))
        self.operation_id = operation_id
        self.merchant_reference = merchant_reference
        self.transaction_id = transaction_id
        self.correlation_id = correlation_id


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One problem Trustly reported, from whichever error shape the endpoint uses.

    `code` is an `ErrorCode` (an int): `ErrorCode.DUPLICATE_REQUEST == 210`; a code Trustly adds
    later is kept with its number as a member whose `.is_unrecognized` is true.
    """

    code: ErrorCode | None
    message: str
    domain: str | None = None
    location: str | None = None
    occurred_at: int | None = None

    def __str__(self) -> str:
        # The number, as Trustly's docs list it, not the enum member's name.
        code = getattr(self.code, "value", self.code)
        text = f"[{code}] {self.message}" if self.code is not None else self.message
        return f"{text} (at {self.location})" if self.location else text


class APIStatusError(TrustlyError):
    """Trustly answered with a non-2xx status (or a 2xx carrying an error code)."""

    status_class: ClassVar[int | None] = None

    def __init__(
        self,
        *,
        status_code: int,
        errors: tuple[ErrorDetail, ...],
        body: bytes,
        method: str,
        path: str,
        correlation_id: str | None,
        retry_after: float | None = None,
    ) -> None:
        summary = "; ".join(str(error) for error in errors) or _reason(status_code)
        super().__init__(_with_id(f"{method} {path} -> {status_code}: {summary}", correlation_id))
        self.status_code = status_code
        self.errors = errors
        self.body = body
        self.method = method
        self.path = path
        self.correlation_id = correlation_id
        self.retry_after = retry_after

    @property
    def code(self) -> ErrorCode | None:
        """Trustly's code of the first error, e.g. INVALID_PARAMETER (200) or ACCESS_CONTROL_ERROR (375)."""
        return self.errors[0].code if self.errors else None


class BadRequestError(APIStatusError):
    """400: Trustly rejected the request, usually an invalid or missing parameter."""

    status_class = 400


class AuthenticationError(APIStatusError):
    """401: the accessId, accessKey or request signature was not accepted."""

    status_class = 401


class PermissionDeniedError(APIStatusError):
    """403: the credentials may not do this."""

    status_class = 403


class NotFoundError(APIStatusError):
    """404: no such object or endpoint."""

    status_class = 404


class ConflictError(APIStatusError):
    """409: the request conflicts with the object's state."""

    status_class = 409


class UnprocessableEntityError(APIStatusError):
    """422: the request was well-formed but cannot be processed."""

    status_class = 422


class RateLimitError(APIStatusError):
    """429: too many requests; `retry_after` says how long to wait when Trustly says so."""

    status_class = 429


class InternalServerError(APIStatusError):
    """5xx: Trustly failed or is unavailable."""

    status_class = 500


class DuplicateRequestError(APIStatusError):
    """Trustly code 210: a request with this merchantReference was already applied and this one was ignored.

    `merchant_reference` and `transaction_id` are those of the ignored request, so
    `client.reconcile(error)` can find the transaction the first one created.
    """

    merchant_reference: str | None = None
    transaction_id: str | None = None


class ResponseValidationError(TrustlyError):
    """A 2xx body does not fit the operation's model; `body` holds it as received."""

    def __init__(self, message: str, *, operation_id: str, body: bytes, correlation_id: str | None) -> None:
        super().__init__(_with_id(f"{operation_id}: {message}", correlation_id))
        self.operation_id = operation_id
        self.body = body
        self.correlation_id = correlation_id


class SignatureVerificationError(TrustlyError):
    """A signature from Trustly (notification or redirect) is missing or does not match."""


class InvalidNotificationError(TrustlyError):
    """A notification body (already verified) is not a readable event."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    cls.status_class: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        UnprocessableEntityError,
        RateLimitError,
    )
    if cls.status_class is not None
}


def parse_error_details(body: bytes) -> tuple[ErrorDetail, ...]:
    """The problems in an error body of any shape Trustly uses (see `_error_body`).

    Anything unreadable (an HTML page from a proxy, an empty or hostile body) gives no details.
    """
    return tuple(_detail(item) for item in error_items(body))


def has_duplicate_code(errors: tuple[ErrorDetail, ...]) -> bool:
    return any(error.code == DUPLICATE_REQUEST_CODE for error in errors)


def make_status_error(
    *,
    status_code: int,
    body: bytes,
    method: str,
    path: str,
    correlation_id: str | None,
    retry_after: float | None,
    errors: tuple[ErrorDetail, ...] | None = None,
) -> APIStatusError:
    """Build the right APIStatusError subclass for a response."""
    details = parse_error_details(body) if errors is None else errors
    cls: type[APIStatusError]
    if has_duplicate_code(details):
        cls = DuplicateRequestError
    elif status_code >= 500:
        cls = InternalServerError
    elif status_code >= 400:
        cls = _BY_STATUS.get(status_code, APIStatusError)
    else:
        # Trustly's docs allow the errors array on other statuses, 2xx included: the code then
        # picks the class, as the sandbox pairs them (200 -> 400, 300/325/375 -> 401, 100 -> 500).
        code = details[0].code if details else None
        cls = _BY_CODE.get(code, APIStatusError) if code is not None else APIStatusError
    return cls(
        status_code=status_code,
        errors=details,
        body=body,
        method=method,
        path=path,
        correlation_id=correlation_id,
        retry_after=retry_after,
    )


_BY_CODE: dict[int, type[APIStatusError]] = {
    **dict.fromkeys((200, 326, 330, 331, 380, 390, 397), BadRequestError),
    **dict.fromkeys((300, 325, 375), AuthenticationError),
    **dict.fromkeys((100, 150, 378), InternalServerError),
}


def _detail(item: dict[str, Any]) -> ErrorDetail:
    code = bounded_int(item.get("code"))
    return ErrorDetail(
        code=None if code is None else ErrorCode(code),
        message=text_of(item.get("message")) or "",
        domain=text_of(item.get("domain")),
        location=text_of(item.get("location")),
        occurred_at=bounded_int(item.get("occurredAt")),
    )


def _reason(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "HTTP error"


def _with_id(message: str, correlation_id: str | None) -> str:
    return f"{message} (correlation id {correlation_id})" if correlation_id else message
