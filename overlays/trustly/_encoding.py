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
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import Any

from trustly_api_client.operations import OPERATIONS

from ._errors import ConfigurationError, InvalidRequestError

__all__ = ["FORM", "JSON", "check_content_types", "encode_as", "form_fields", "wire_text"]

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
