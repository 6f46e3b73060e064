"""The bodies `make bench` serves, built from our spec so that they follow it as it changes.

A benchmark on a ten-field transaction flatters every client: real transactions carry a
payment with its account, customer, provider and recurrence. `transaction()` sets every
property of the spec's `Transaction` schema, recursing into every nested object, with
values that fit each property's type, enum, pattern and format. `transaction_page()` is a
list page of such transactions with distinct ids, and `error_body()` Trustly's error envelope.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "NOT_FOUND_ID",
    "SPEC",
    "TRANSACTION_ID",
    "error_body",
    "example",
    "schema",
    "spec",
    "transaction",
    "transaction_page",
    "write_bodies",
]

SPEC = Path(__file__).resolve().parent.parent / "spec" / "trustly-openapi.yaml"
TRANSACTION_ID = "1002633191"
NOT_FOUND_ID = "404404404"
"""The transaction id the bench server answers with 404 and the error envelope."""

_EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a plausible recent timestamp


@cache
def spec() -> dict[str, Any]:
    """Our OpenAPI description, parsed once."""
    loaded: dict[str, Any] = yaml.safe_load(SPEC.read_text())
    return loaded


def schema(name: str) -> dict[str, Any]:
    """A component schema of our spec by name."""
    found: dict[str, Any] = spec()["components"]["schemas"][name]
    return found


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/components/schemas/"):
            raise ValueError(f"unsupported $ref {ref!r}")
        node = schema(ref.rsplit("/", 1)[-1])
    return node


def _string(name: str, node: dict[str, Any]) -> str:
    """A realistic string for property `name` that fits the node's pattern, format and length."""
    fmt = node.get("format")
    lower = name.lower()
    if fmt in ("date-time",):
        return "2026-01-01T12:00:00Z"
    if fmt == "date" or lower in ("dateofbirth",):
        return "1980-04-15"
    if fmt == "email" or lower == "email":
        return "jane.doe@example.com"
    if fmt in ("uri", "url") or lower.endswith("url"):
        return f"https://merchant.example/{name}?order=1001"
    if (
        fmt == "decimal"
        or lower in ("amount", "pending", "paid", "refunded", "reversed", "balance", "fee")
        or (lower.endswith("amount") or lower == "debtsettlement")
    ):
        value = "1234.56"
    elif lower.endswith("id") or lower in ("pptrxid", "fingerprint"):
        value = "1002633" + str(len(name) * 7 % 1000).rjust(3, "0")
    elif lower == "ip":
        value = "203.0.113.7"
    elif lower == "timezone":
        value = "America/Chicago"
    elif lower in ("state",):
        value = "CA"
    elif lower in ("country",):
        value = "US"
    elif lower in ("currency",):
        value = "USD"
    elif lower in ("zip",):
        value = "94105"
    elif lower in ("phone",):
        value = "+14155550100"
    elif lower in ("routingnumber",):
        value = "124003116"
    elif lower in ("accountnumber",):
        value = "000123456789"
    elif lower in ("accountnumberlastfour",):
        value = "6789"
    else:
        value = f"bench {name}"
    pattern = node.get("pattern")
    if pattern is not None and not re.search(pattern, value):
        raise ValueError(f"no benchmark value for {name!r} fits its pattern {pattern!r}; add one to bench/fixtures.py")
    max_length = node.get("maxLength")
    if max_length is not None:
        value = value[:max_length]
    return value


def example(node: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """A value for `node` with every property of every object set (recursively)."""
    node = _resolve(node)
    if depth > 12:
        raise ValueError(f"schema nesting deeper than 12 at {name!r}: a cycle?")
    for combinator in ("allOf",):
        if combinator in node:
            merged: dict[str, Any] = {}
            for part in node[combinator]:
                value = example(part, name, depth + 1)
                merged.update(value)
            return merged
    for combinator in ("oneOf", "anyOf"):
        if combinator in node:
            branches = [b for b in node[combinator] if _resolve(b).get("type") != "null"]
            return example(branches[0], name, depth + 1)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        values = [v for v in node["enum"] if v is not None]
        return values[0]
    kind = node.get("type", "object")
    if isinstance(kind, list):  # ['integer', 'null']: the non-null branch
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        properties = node.get("properties", {})
        if not properties and node.get("additionalProperties"):
            return {"key": "value"}
        return {key: example(sub, key, depth + 1) for key, sub in properties.items()}
    if kind == "array":
        return [example(node.get("items", {}), name, depth + 1) for _ in range(2)]
    if kind == "integer":
        lower = name.lower()
        if node.get("format") == "int64" or lower.endswith(("at", "date", "occurrence")):
            return _EPOCH_MS + len(name) * 1000
        return 1 + len(name) % 5
    if kind == "number":
        return 12.5
    if kind == "boolean":
        return True
    if kind == "string":
        return _string(name, node)
    raise ValueError(f"unsupported schema type {kind!r} at {name!r}")


def transaction(transaction_id: str = TRANSACTION_ID) -> dict[str, Any]:
    """A transaction with every property of the spec's `Transaction` set, nested objects included."""
    body: dict[str, Any] = example(schema("Transaction"), "transaction")
    body["transactionId"] = transaction_id
    return body


def transaction_page(count: int = 100, start: int = 0) -> dict[str, Any]:
    """A `TransactionList` page of `count` full transactions with distinct ids."""
    template = transaction()
    rows = []
    for i in range(start, start + count):
        row = copy.deepcopy(template)
        row["transactionId"] = str(1_002_000_000 + i)
        rows.append(row)
    page: dict[str, Any] = example(schema("TransactionList"), "page")
    page["transactions"] = rows
    page["startIndex"] = start
    page["itemsPerPage"] = count
    return page


def error_body() -> dict[str, Any]:
    """Trustly's error envelope for an unknown transaction."""
    return {
        "errors": [
            {
                "domain": "com.trustly.exception.NotFoundException",
                "code": 330,  # as the simulator answers an unknown transaction
                "message": "Transaction not found",
                "location": "transactionId",
                "occurredAt": _EPOCH_MS,
            }
        ]
    }


def encoded() -> dict[str, bytes]:
    """The three bodies as the server sends them (compact JSON, as Trustly does)."""
    return {
        "transaction": json.dumps(transaction(), separators=(",", ":")).encode(),
        "page": json.dumps(transaction_page(), separators=(",", ":")).encode(),
        "error": json.dumps(error_body(), separators=(",", ":")).encode(),
    }


def write_bodies(folder: Path) -> dict[str, int]:
    """Write the bench server's bodies into `folder`; their sizes in bytes.

    With Trustly's published file at hand, `folder/published` gets the transaction and the
    page as that file types them, for the default generator's client (see bench/baseline.py).
    """
    from bench import baseline

    sizes = {}
    for name, body in encoded().items():
        (folder / f"{name}.json").write_bytes(body)
        sizes[name] = len(body)
    if baseline.PUBLISHED_SPEC.is_file():
        published = folder / "published"
        published.mkdir()
        shape = baseline.published_schema("Transaction")
        page = transaction_page()
        page["transactions"] = [baseline.conform(row, shape) for row in page["transactions"]]
        for name, value in (("transaction", baseline.conform(transaction(), shape)), ("page", page)):
            (published / f"{name}.json").write_bytes(json.dumps(value, separators=(",", ":")).encode())
    return sizes
