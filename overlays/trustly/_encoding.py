"""Which media type each operation's request body is sent as, switchable without regenerating.

Trustly's evidence on body encoding is split (see the `# why:` comments in the spec): form
encoding is shown for capture, preAuth and refresh, JSON is what Trustly's published file
declares for the other transaction writes. Each operation sends what its evidence supports
(`Operation.content_type`) and names the other as `Operation.alternate_content_type`. If
Trustly's answer proves the choice wrong, switch it per client, no new release needed:

```python
client = TrustlyClient(..., content_types={"transactions_deposit": "application/x-www-form-urlencoded"})
```

A JSON body keeps the field names the spec uses (dotted ones such as
`beneficiaryAccount.iban` included, as Trustly's file declares them); a form body flattens
nested objects into such dotted names.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from trustly_api_client.operations import OPERATIONS

from ._errors import ConfigurationError

__all__ = ["FORM", "JSON", "check_content_types", "encode_as"]

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


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        elif value is not None:  # a form cannot say null; leaving the field out is the nearest
            flat[name] = value
    return flat


def encode_as(request: dict[str, Any], content_type: str) -> dict[str, Any]:
    """The request (as the generated code builds it) with its body sent as `content_type`."""
    body = request.get("json", request.get("data"))
    switched = {k: v for k, v in request.items() if k not in ("json", "data")}
    switched["headers"] = {**(request.get("headers") or {}), "Content-Type": content_type}
    if body is None:
        return switched
    if content_type == JSON:
        switched["json"] = body
    else:
        switched["data"] = _flatten(body)
    return switched
