"""schemathesis hooks (loaded through SCHEMATHESIS_HOOKS): Trustly's form encoding.

OpenAPI has no style for nested objects in a form body spelt as dotted names, which is how
Trustly's form fields are named (`beneficiary.address.zip`), so schemathesis is told here; the
client's encoder writes them the same way and the simulator reads them back. Some phases hand
over an object already flattened in bracket notation (`beneficiary[address][zip]`, what
schemathesis assumes for nested form objects); those brackets become dots too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import schemathesis

_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


def _fields(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        name = prefix + _BRACKETS.sub(r".\1", str(key))
        if isinstance(value, Mapping):
            pairs.extend(_fields(value, f"{name}."))
        elif isinstance(value, list):
            pairs.extend((name, _text(item)) for item in value)
        elif value is not None:
            pairs.append((name, _text(value)))
    return pairs


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


@schemathesis.serializer("application/x-www-form-urlencoded")
def dotted_form(ctx: Any, value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, Mapping):
        return urlencode(_fields(value)).encode("ascii")
    return json.dumps(value).encode("utf-8")  # an out-of-spec body that is no object
