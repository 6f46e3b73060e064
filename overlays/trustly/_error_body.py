"""Reading Trustly's error bodies, whatever shape they come in and however broken they are.

Trustly documents one envelope, `{"errors": [{domain, code, message, location, occurredAt}]}`,
but its docs and its published OpenAPI file show other shapes on some endpoints:

- `{"message": "..."}`: 400s of /accounts/tokenize, /accounts/verify and /countries;
- `{"isInTrustlyNetwork": ..., "errorsList": [...]}`: 400s of /customers/lookup;
- one unwrapped error object `{domain, code, message, ...}`: /feedback and dispute recovery.

`error_items` turns each into the same list of error objects. The body comes from the network,
so nothing in it may crash the client: nesting deep enough to exhaust the parser's recursion,
integers too long for `int()`, invalid UTF-8, JSON that is not an object, or fields of the wrong
type all end in fewer details, never in an exception other than the typed error being built.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_TEXT", "bounded_int", "error_items", "text_of"]

MAX_TEXT = 1000
"""Longest message, domain or location kept from a body; an error message is not a data channel."""

_MAX_DIGITS = 18  # every Trustly code and epoch-millisecond time fits; longer numbers are noise


def _parse_int(digits: str) -> int | None:
    # json's default int() raises ValueError above 4300 digits, which would lose the whole body.
    return int(digits) if len(digits.lstrip("-")) <= _MAX_DIGITS else None


def _load(body: bytes) -> Any:
    try:
        return json.loads(body, parse_int=_parse_int)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None


def _is_error_object(data: dict[str, Any]) -> bool:
    return "code" in data or "domain" in data


def error_items(body: bytes) -> list[dict[str, Any]]:
    """The error objects of a body in any documented shape; empty when it has none."""
    data = _load(body)
    if isinstance(data, list):
        return [item for item in data if isinstance(item, dict)]
    if not isinstance(data, dict):
        return []
    for key in ("errors", "errorsList"):
        listed = data.get(key)
        if isinstance(listed, dict):
            listed = [listed]
        if isinstance(listed, list):
            items = [item for item in listed if isinstance(item, dict)]
            if items:
                return items
    if _is_error_object(data) or isinstance(data.get("message"), str):
        return [data]
    return []


def bounded_int(value: Any) -> int | None:
    """A whole number from an int, a whole float or digits in a string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= 10**_MAX_DIGITS:
            return None
        return int(value)
    if isinstance(value, int):
        return value if abs(value) < 10**_MAX_DIGITS else None
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit() and len(text.lstrip("-")) <= _MAX_DIGITS:
            return int(text)
    return None


def text_of(value: Any) -> str | None:
    """A non-empty string field, cut to MAX_TEXT; None when missing or not text."""
    if isinstance(value, str) and value:
        return value[:MAX_TEXT]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)[:MAX_TEXT]
    return None
