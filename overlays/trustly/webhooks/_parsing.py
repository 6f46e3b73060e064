"""Reading a notification body: strict form parsing, optional JSON, typed event models, freshness.

Trustly signs the URL-decoded body string (see `trustly._signatures`). Decoding is lossy: a value
holding an encoded `&` (`message=x%26status%3D4`) decodes to the same signed string as a body with
an extra field (`message=x&status=4`), so one signature fits both. The parser therefore accepts a
form body only when its fields are exactly what the verified string says: no duplicate keys, no
key without `=`, no empty segment, and the fields, joined again, must give the decoded string
that was verified. A re-cut body then either repeats a key (refused) or only adds fields that the
original body did not carry: `eventId`, `eventType`, `objectId` and `createdAt` are in every
original and cannot be forged that way, and an added `accessId` must still match the signature's.
For money decisions on other fields, confirm with `client.transactions.get(event.object_id)`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from .._encoding import unflatten_fields
from .._errors import InvalidNotificationError

if TYPE_CHECKING:
    from trustly_api_client.models import Event

__all__ = [
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_FUTURE",
    "EVENT_MODELS",
    "MAX_BODY_BYTES",
    "StaleNotificationError",
    "check_fresh",
    "event_fields",
    "parse_event",
    "parse_form",
]

MAX_BODY_BYTES = 64 * 1024
"""Larger bodies are refused before anything is parsed (Trustly's are well under 4 KiB)."""

DEFAULT_MAX_AGE = 13 * 3600.0
"""Seconds a notification stays acceptable after its createdAt: Trustly redelivers for 12 hours,
plus an hour for clock skew and queueing. Keep de-duplication records longer than this."""

DEFAULT_MAX_FUTURE = 300.0
"""Seconds a createdAt may lie ahead of our clock (clock skew between Trustly and us)."""

EVENT_MODELS: Mapping[str, str] = {
    "Authorize": "AuthorizeEvent",
    "Completed": "CompletedEvent",
    "Complete": "CompletedEvent",
    "DataReady": "DataReadyEvent",
    "Dispute": "DisputeEvent",
    "Establish": "EstablishEvent",
    "Expired": "ExpiredEvent",
    "Expire": "ExpiredEvent",
    "Failed": "FailedEvent",
    "Refresh": "RefreshEvent",
    "Update": "UpdateEvent",
    "VerifyCustomer": "VerifyCustomerEvent",
    "Process": "ProcessEvent",
    "Cancel": "CancelEvent",
    "Cancelled": "CancelEvent",
    "Deny": "DenyEvent",
    "Refund": "RefundEvent",
    "Reverse": "ReverseEvent",
    "Reconcile": "ReconcileEvent",
    "CONSENT_REVOKED": "ConsentRevokedEvent",
}
"""eventType -> model name in `trustly.models`; any other type parses as the generic `Event`."""

_REQUIRED = ("eventId", "eventType", "objectId", "createdAt")
# The event fields that are nested objects, sent as dotted names (`customer.name`).
_NESTED = ("paymentProviderTransaction", "customer")
# Form bodies carry only text; these fields are typed otherwise in the event models.
_INT_FIELDS = frozenset({"createdAt"})
_BOOL_FIELDS = frozenset({"hardRefresh", "success"})
# str.isdigit() accepts "²" and "①", which int() refuses: only ASCII digits are epoch milliseconds.
_EPOCH_MS = re.compile(r"[0-9]{1,16}")


class StaleNotificationError(InvalidNotificationError):
    """A signed notification whose createdAt lies outside the freshness window (a replay, or a clock far off)."""


def parse_form(body: bytes) -> dict[str, str]:
    """The fields of a form-encoded body, refusing anything its signature would not pin down.

    Raises InvalidNotificationError for non-UTF-8 text, malformed percent-escapes, a segment
    without `=`, an empty segment, a repeated key, or fields whose decoded `key=value` pairs do
    not join back into the decoded body that the signature covers.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidNotificationError("the notification body is not UTF-8") from None
    if not text:
        return {}
    fields: dict[str, str] = {}
    for segment in text.split("&"):
        raw_key, sep, raw_value = segment.partition("=")
        if not sep or not raw_key:
            raise InvalidNotificationError("the notification body has a field without a name or '='")
        try:
            key = unquote_plus(raw_key, errors="strict")
            value = unquote_plus(raw_value, errors="strict")
        except UnicodeDecodeError:
            raise InvalidNotificationError("the notification body is not UTF-8") from None
        if key in fields:
            raise InvalidNotificationError(f"the notification body repeats the field {key!r}")
        fields[key] = value
    # The signature covers unquote_plus(body): it pins these fields only if that decoded string,
    # cut at '&' and at the first '=', gives the very same fields.
    decoded = [segment.partition("=") for segment in unquote_plus(text, errors="strict").split("&")]
    if [(key, value) for key, _, value in decoded] != list(fields.items()):
        raise InvalidNotificationError(
            "the notification's fields are ambiguous once URL-decoded (an encoded '&' or '=')"
        )
    return fields


def _json_fields(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidNotificationError("the notification body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidNotificationError("the notification body is not a JSON object")
    for key, value in data.items():
        if isinstance(value, dict | list):
            raise InvalidNotificationError(f"the notification field {key!r} is not a scalar")
    return data


def _coerce(name: str, value: Any) -> Any:
    if name in _INT_FIELDS:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and _EPOCH_MS.fullmatch(value):
            return int(value)
        raise InvalidNotificationError(f"{name} is not epoch milliseconds: {value!r}")
    if name in _BOOL_FIELDS:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise InvalidNotificationError(f"{name} is not a boolean: {value!r}")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)  # e.g. fiCode arrives as a JSON number in the docs' rendering
    return value


def event_fields(body: bytes, content_type: str = "application/x-www-form-urlencoded") -> dict[str, Any]:
    """The typed fields of a notification body, checked for the fields every event carries.

    A JSON body is read only when `content_type` says JSON; anything else is parsed as a form.
    """
    if not isinstance(body, bytes | bytearray | memoryview):
        raise InvalidNotificationError(f"pass the raw body as bytes, not {type(body).__name__}")
    raw_body = bytes(body)
    if len(raw_body) > MAX_BODY_BYTES:
        raise InvalidNotificationError("the notification body is too large")
    is_json = content_type.split(";")[0].strip().lower() in ("application/json", "text/json")
    raw = _json_fields(raw_body) if is_json else parse_form(raw_body)
    data = {key: _coerce(key, value) for key, value in raw.items()}
    for required in _REQUIRED:
        value = data.get(required)
        if value is None or value == "":
            raise InvalidNotificationError(f"the notification has no {required}")
    return data


def check_fresh(
    created_at_ms: int, *, max_age: float | None, max_future: float = DEFAULT_MAX_FUTURE, now: float | None = None
) -> None:
    """Refuse a createdAt older than `max_age` seconds or more than `max_future` seconds ahead."""
    if max_age is None:
        return
    current = time.time() if now is None else now
    age = current - created_at_ms / 1000.0
    if age > max_age:
        raise StaleNotificationError(f"the notification was created {age:.0f} s ago, past the {max_age:.0f} s window")
    if -age > max_future:
        raise StaleNotificationError(f"the notification's createdAt lies {-age:.0f} s in the future")


def parse_event(body: bytes, content_type: str = "application/x-www-form-urlencoded") -> Event:
    """Parse a notification body (not verified here) into its typed event model.

    Known event types give their own model (`AuthorizeEvent`, ...); any other type gives the
    generic `Event`, with every field kept in `additional_properties`. Raises
    InvalidNotificationError for anything that is not a readable event.
    """
    return model_event(event_fields(body, content_type))


def model_event(data: Mapping[str, Any]) -> Event:
    """The event model for already-checked fields (see `event_fields`).

    Trustly's dotted names (`paymentProviderTransaction.status`) are nested first, so they
    land in the model's nested fields (`event.payment_provider_transaction.status`).
    """
    import trustly_api_client.models as models

    model = getattr(models, EVENT_MODELS.get(str(data["eventType"]), "Event"))
    try:
        tree = unflatten_fields(data)
        # A plain `customer=...` is no nested object: kept as received rather than refused.
        plain = {name: tree.pop(name) for name in _NESTED if name in tree and not isinstance(tree[name], dict)}
        event: Event = model.from_dict(tree)
        event.additional_properties.update(plain)
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
        raise InvalidNotificationError(f"the notification does not fit {model.__name__}: {exc}") from exc
    return event
