"""Checks on arguments before anything is sent.

Money is the reason for this module: an amount must be a `Decimal` or a decimal string,
never a float (0.1 + 0.2 is not 0.3), and a bad amount, currency, id or URL must fail here,
naming the field, rather than as a 400 from Trustly or, worse, as a charge for the wrong sum.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from trustly_api_client.operations import Operation
from trustly_api_client.types import InvalidFieldError, encode_amount

from ._errors import InvalidRequestError

__all__ = ["format_amount", "prepare_request"]

_CURRENCY = re.compile(r"^[A-Z]{3}$")


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
        if "\x00" in value:
            raise InvalidRequestError(field, "contains a NUL character")
    return value


def _check_path(op: Operation, url: str) -> None:
    template = op.path.lstrip("/").split("/")
    actual = url.split("?", 1)[0].lstrip("/").split("/")
    for name, value in zip(template, actual, strict=False):
        if name.startswith("{") and not value:
            raise InvalidRequestError(name.strip("{}"), "must be a non-empty id")
    if len(template) != len(actual):
        raise InvalidRequestError(op.operation_id, f"path {url!r} does not match {op.path}")


def prepare_request(op: Operation, request: dict[str, Any]) -> dict[str, Any]:
    """A checked copy of a request built by the generated code, ready for httpx."""
    prepared = dict(request)
    _check_path(op, str(prepared.get("url", "")))
    for key in ("json", "data", "params"):
        if prepared.get(key):
            prepared[key] = _clean("", prepared[key])
    return prepared
