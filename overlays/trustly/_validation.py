"""Checks on arguments before anything is sent.

Money is the reason for this module: an amount must be a `Decimal` or a decimal string,
never a float (0.1 + 0.2 is not 0.3), and a bad amount, currency, id or URL must fail here,
naming the field, rather than as a 400 from Trustly or, worse, as a charge for the wrong sum.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlsplit

from trustly_api_client.operations import Operation, RetryClass
from trustly_api_client.types import InvalidFieldError, encode_amount

from ._errors import InvalidRequestError

__all__ = [
    "MAX_ID_LENGTH",
    "check_path_arguments",
    "format_amount",
    "is_header_name",
    "is_header_value",
    "prepare_request",
]

_CURRENCY = re.compile(r"^[A-Z]{3}$")

MAX_ID_LENGTH = 64
"""The longest id accepted in a path (the spec's `Id` schema)."""

# Ids are opaque but plain: letters, digits and a few URL-safe marks. Anything else in a path
# segment (a slash, a dot segment, a space, a non-ASCII letter) would address another resource.
_ID = re.compile(r"^[A-Za-z0-9._~-]+$")
_PATH_NAME = re.compile(r"\{([A-Za-z0-9_]+)\}")
# What HTTP/1.1 carries as it is (RFC 9110 5.1, 5.5): a name is a token; a value is visible ASCII
# with single spaces or tabs inside, never at either end (h11 refuses those, so the request
# would fail after it was handed to the transport instead of here).
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"(?:[!-~]+(?:[ \t]+[!-~]+)*)?")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def format_amount(value: object, field: str = "amount") -> str:
    """An amount as Trustly expects it ("10.00") from a `Decimal` or a decimal string.

    The same rule the models use when they send an amount. Raises InvalidRequestError for
    floats, negative amounts (negative zero included), NaN and infinities, a third decimal and
    more than seven digits before the point: rounding or reformatting money silently is never right.
    """
    try:
        return encode_amount(value, field)
    except InvalidFieldError as error:
        raise InvalidRequestError(error.field, error.reason) from None


def _is_amount_field(key: str) -> bool:
    last = key.rsplit(".", 1)[-1]
    # displayAmount is the text shown to the customer, not an amount that is charged.
    return (
        last == "amount" or (last.endswith("Amount") and last != "displayAmount") or last in ("amountMin", "amountMax")
    )


def _is_url_field(key: str) -> bool:
    last = key.rsplit(".", 1)[-1]
    return last.endswith(("Url", "URL"))


def _check_url(field: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise InvalidRequestError(field, f"{value!r} is not an absolute http(s) URL")


def _clean(field: str, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(f"{field}.{k}" if field else str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(f"{field}[{i}]", v) for i, v in enumerate(value)]
    if _is_amount_field(field) and value is not None:
        return format_amount(value, field)
    if isinstance(value, float):
        raise InvalidRequestError(field, f"floats are not accepted ({value!r}); pass a Decimal or str")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        last = field.rsplit(".", 1)[-1]
        if last == "currency" and not _CURRENCY.match(value):
            raise InvalidRequestError(field, f"{value!r} is not a three-letter ISO 4217 code")
        if _is_url_field(field):
            _check_url(field, value)
        _check_text(field, value)
    return value


def _check_id(field: str, value: object) -> None:
    if not isinstance(value, str):
        raise InvalidRequestError(field, f"must be a string id, not {type(value).__name__}")
    if not value:
        raise InvalidRequestError(field, "must be a non-empty id")
    if value in (".", ".."):
        raise InvalidRequestError(field, f"{value!r} is a dot segment, not an id")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidRequestError(field, f"is {len(value)} characters long; ids have at most {MAX_ID_LENGTH}")
    if not _ID.match(value):
        raise InvalidRequestError(field, f"{value!r} contains characters that are not valid in an id")


@functools.cache
def _path_arguments(path: str) -> tuple[str, ...]:
    """The Python argument names of a path template's parameters ("{transactionId}": transaction_id)."""
    return tuple(_CAMEL.sub("_", name).lower() for name in _PATH_NAME.findall(path))


@functools.cache
def _segments(path: str) -> tuple[str, ...]:
    return tuple(path.lstrip("/").split("/"))


def check_path_arguments(op: Operation, arguments: dict[str, Any]) -> None:
    """Refuse path ids that would retarget the request, as the caller passed them (before `str()`)."""
    for argument in _path_arguments(op.path):
        if argument in arguments:
            _check_id(argument, arguments[argument])


def _check_path(op: Operation, url: str) -> None:
    template = _segments(op.path)
    actual = url.split("?", 1)[0].lstrip("/").split("/")
    if len(template) != len(actual):
        raise InvalidRequestError(op.operation_id, f"path {url!r} does not match {op.path}")
    for name, value in zip(template, actual, strict=True):
        if name.startswith("{"):
            _check_id(name.strip("{}"), unquote(value))


def _check_text(field: str, value: str) -> None:
    if "\x00" in value:
        raise InvalidRequestError(field, "contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequestError(field, f"is not valid text ({exc.reason} at position {exc.start})") from None


def is_header_name(name: str) -> bool:
    """Whether `name` can be sent as an HTTP header name."""
    return _HEADER_NAME.fullmatch(name) is not None


def is_header_value(value: str) -> bool:
    """Whether `value` can be sent as an HTTP header value exactly as it is."""
    return _HEADER_VALUE.fullmatch(value) is not None


def _check_headers(headers: Any) -> None:
    for name, value in dict(headers or {}).items():
        if isinstance(value, str) and not is_header_value(value):
            raise InvalidRequestError(
                str(name), "header values must be printable ASCII, with no space or tab at either end"
            )


def _check_dedup_key(op: Operation, prepared: dict[str, Any]) -> None:
    """A retry that relies on a duplicate guard needs a guard to rely on."""
    if op.retry is not RetryClass.IDEMPOTENT:
        return
    headers = {str(k).lower(): v for k, v in dict(prepared.get("headers") or {}).items()}
    if "idempotency-key" in headers:
        key = headers["idempotency-key"]
        if not isinstance(key, str) or not key.strip():
            raise InvalidRequestError("idempotency_key", "must be a non-empty key: retries rely on it")
        return
    for body_key in ("json", "data"):
        body = prepared.get(body_key)
        if isinstance(body, dict) and "merchantReference" in body:
            reference = body["merchantReference"]
            if not isinstance(reference, str) or not reference.strip():
                raise InvalidRequestError("merchantReference", "must be non-empty: retries rely on it")
            return
    raise InvalidRequestError("merchantReference", "is required: retries rely on it")


def prepare_request(op: Operation, request: dict[str, Any]) -> dict[str, Any]:
    """A checked copy of a request built by the generated code, ready for httpx."""
    prepared = dict(request)
    _check_path(op, str(prepared.get("url", "")))
    _check_dedup_key(op, prepared)  # first: a blank key is refused for what it is, not for its spaces
    _check_headers(prepared.get("headers"))
    for key in ("json", "data", "params"):
        if prepared.get(key):
            prepared[key] = _clean("", prepared[key])
    return prepared
