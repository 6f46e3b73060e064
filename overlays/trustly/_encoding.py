"""Which media type each operation's request body is sent as, switchable without regenerating.

Trustly's evidence on body encoding is split (see the `# why:` comments in the spec): form
encoding is shown for capture, preAuth and refresh, JSON is what Trustly's published file
declares for the other transaction writes. Each operation sends what its evidence supports
(`Operation.content_type`) and names the other as `Operation.alternate_content_type`. If
Trustly's answer proves the choice wrong, switch it per client, no new release needed:

```python
client = TrustlyClient(..., content_types={"transactions_deposit": "application/x-www-form-urlencoded"})
```

The models are the same for both: nested bodies (`CaptureRequest(beneficiary=Beneficiary(
address=Address(...)))`). A JSON body sends them nested; a form body is flattened here, and only
here, into the dotted field names Trustly's form fields use (`beneficiary.address.zip=...`),
each value written by `wire_text`, the rule the Establish signature also writes values by:
amounts as their two-decimal text, enums as their wire codes, times as the integer of their
unit, booleans as `true` and `false`. A form cannot say null, so a None (and an empty object) is
left out.

Inbound, the same dotted names arrive in notification bodies and redirect query strings;
`unflatten_fields`, the inverse of `form_fields`, nests them again so they parse into the same
nested models (`event.payment_provider_transaction.status`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import Any

from trustly_api_client.operations import OPERATIONS

from ._errors import ConfigurationError, InvalidRequestError

__all__ = ["FORM", "JSON", "check_content_types", "encode_as", "form_fields", "unflatten_fields", "wire_text"]

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def check_content_types(choices: Mapping[str, str] | None) -> Mapping[str, str]:
    """The validated per-operation choices, keeping only those that differ from the default.

    Raises ConfigurationError for an unknown operation, one without a body, or a media type
    the operation does not declare.
    """
    switched: dict[str, str] = {}
    for operation_id, content_type in (choices or {}).items():
        op = OPERATIONS.get(operation_id)
        if op is None or op.content_type is None:
            raise ConfigurationError(f"content_types: {operation_id!r} is not an operation with a request body")
        allowed = [t for t in (op.content_type, op.alternate_content_type) if t is not None]
        if content_type not in allowed:
            raise ConfigurationError(
                f"content_types: {operation_id} takes {' or '.join(allowed)}, not {content_type!r}"
            )
        if content_type != op.content_type:
            switched[operation_id] = content_type
    return MappingProxyType(switched)


def wire_text(field: str, value: object) -> str:
    """One value of a serialised body as the text Trustly reads: the form encoder's rule, and the signature's.

    The value is what the models serialise (amounts are already their text, times their
    integer): enums become their wire code, booleans `true`/`false`, integers their digits.
    Raises InvalidRequestError for floats (they cannot be written exactly) and any other type.
    """
    if isinstance(value, Enum):
        value = value.value
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise InvalidRequestError(field, f"floats cannot be sent exactly ({value!r}); pass a Decimal or str")
    raise InvalidRequestError(field, f"a {type(value).__name__} has no wire form; pass text, a number or an enum")


def form_fields(body: Mapping[str, Any]) -> dict[str, str]:
    """A serialised body as form fields: nested objects flattened to dotted names, values as text.

    Raises InvalidRequestError for a list (no form body of Trustly's carries one) and for a name
    given twice (a nested field and an extra property spelt `beneficiary.name`): never send a
    field whose value depends on the order it was written in.
    """
    fields: dict[str, str] = {}
    _flatten_into(fields, body, "")
    return fields


def _flatten_into(fields: dict[str, str], data: Mapping[str, Any], prefix: str) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten_into(fields, value, f"{name}.")
            continue
        if value is None:  # a form cannot say null; leaving the field out is the nearest
            continue
        if isinstance(value, list | tuple):
            raise InvalidRequestError(name, "a list cannot be sent in a form body")
        if name in fields:
            raise InvalidRequestError(name, "is given twice (nested and as a dotted name)")
        fields[name] = wire_text(name, value)


def unflatten_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Fields received with dotted names (`paymentProviderTransaction.status=AC100`) as nested dicts.

    The inverse of `form_fields`, for what Trustly sends: notification bodies and redirect
    query strings. It never raises, because inbound parsing must not break on a name Trustly
    adds: a dotted name that cannot nest (an empty part, as in `a..b`, or a path through a
    field that is already plain text, as in `customer=x` next to `customer.name=y`) is kept
    flat, under its dotted name, so the model keeps it in `additional_properties`. The result
    does not depend on the order of the fields: shorter names are placed first.
    """
    tree: dict[str, Any] = {}
    dotted: list[tuple[list[str], str, Any]] = []
    for name, value in fields.items():
        parts = name.split(".")
        if len(parts) == 1 or "" in parts:
            tree[name] = value
        else:
            dotted.append((parts, name, value))
    # A shorter name wins its place, so `a.b=1` with `a.b.c=2` keeps `a.b.c` flat in any order.
    dotted.sort(key=lambda entry: len(entry[0]))
    for parts, name, value in dotted:
        node = tree
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            if parts[-1] not in node:
                node[parts[-1]] = value
                continue
        tree[name] = value  # cannot nest without losing a value: kept as received
    return tree


def encode_as(request: dict[str, Any], content_type: str | None) -> dict[str, Any]:
    """The request (as the generated code builds it) with its body sent as `content_type`.

    None keeps the operation's own media type. Every form body passes through here, so a
    nested model is flattened to Trustly's dotted names whichever media type was chosen.
    """
    if content_type is None:
        body = request.get("data")
        if body is None:  # JSON (or no body): httpx serialises the nested dict as it is
            return request
        return {**request, "data": form_fields(body)}
    body = request.get("json", request.get("data"))
    switched = {k: v for k, v in request.items() if k not in ("json", "data")}
    switched["headers"] = {**(request.get("headers") or {}), "Content-Type": content_type}
    if body is None:
        return switched
    if content_type == JSON:
        switched["json"] = body
    else:
        switched["data"] = form_fields(body)
    return switched
