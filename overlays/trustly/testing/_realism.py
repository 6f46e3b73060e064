"""Make the simulator's answers as untidy as Trustly's docs allow, so tests see what production sends.

The simulator builds tidy answers: every field filled, codes as text, one error envelope.
Trustly's own docs and published file allow less: optional fields left out, a payment's
customer without an id, three other error shapes on some endpoints, codes as JSON numbers
where its file types them as doubles, and an `errors` array next to a 200 answer. A client
that only ever sees the tidy form can break on the first real answer; with `Realism()` every
test that drives a client through the simulator covers the untidy forms too.

```python
sim = Simulator(realism=Realism())           # everything on
sim = Simulator(realism=Realism(numeric_codes=False))
```

The answer is checked against the spec before it is made untidy, so a simulator bug is
still caught; each change below is one the spec allows or documents (see its `# why:` notes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._validate import load_spec

__all__ = ["Realism"]

# Optional fields Trustly leaves out, by schema: none of them is required in Trustly's file.
OMITTED: dict[str, frozenset[str]] = {
    "Transaction": frozenset({"statusMessage", "updatedAt"}),
    "Payment": frozenset({"description", "returnUrl", "cancelUrl", "merchantId", "updatedAt", "authorizationStatus"}),
    "EstablishData": frozenset({"accessId", "returnUrl", "cancelUrl", "description"}),
    "Country": frozenset({"numericCode", "alpha3Code"}),
    "PaymentProvider": frozenset({"instantPayment", "country"}),
}

# Codes Trustly's file types as numbers (format double), by schema.
NUMERIC: dict[str, frozenset[str]] = {
    "Account": frozenset({"type", "profile"}),
    "EstablishData": frozenset({"paymentType"}),
}

# The error shapes Trustly's docs or file give per operation and status (see the spec's responses).
ERROR_SHAPES: dict[tuple[str, int], str] = {
    ("accounts_tokenize", 400): "message",
    ("accounts_verify", 400): "message",
    ("countries_list", 400): "message",
    ("customers_lookup", 400): "errorsList",
    ("accounts_send_feedback", 400): "bare",
    ("accounts_send_feedback", 500): "bare",
    ("disputes_recover", 400): "bare",
}


def _empty(value: Any) -> bool:
    # A zero amount ("0.00": nothing paid or refunded yet) counts as empty too.
    return value is None or value == "" or value == [] or value == {} or value == "0.00"


@dataclass(frozen=True)
class Realism:
    """Which untidy forms the simulator answers with; `Realism()` turns all of them on.

    Attributes:
        omit_optional: Leave out optional fields that are empty or a zero amount, and those in `OMITTED`.
        anonymous_customers: Send the customer embedded in payments and Establish Data without an id.
        error_shapes: Answer errors in the shape Trustly documents for that endpoint and status.
        numeric_codes: Send codes as JSON numbers (1.0) where Trustly's file types them as doubles.
        errors_on_success: Put an empty `errors` array next to a successful answer.
    """

    omit_optional: bool = True
    anonymous_customers: bool = True
    error_shapes: bool = True
    numeric_codes: bool = True
    errors_on_success: bool = True

    def answer(self, operation_id: str, status: int, body: Any, schema: dict[str, Any]) -> Any:
        """The body to send instead of the simulator's tidy one; `schema` is the 200 answer's."""
        if not isinstance(body, dict):
            return body
        if status >= 400:
            return self._error(operation_id, status, body)
        untidy = self._reshape(schema, body)
        if self.errors_on_success:
            untidy = {**untidy, "errors": []}
        return untidy

    def _error(self, operation_id: str, status: int, body: dict[str, Any]) -> Any:
        shape = ERROR_SHAPES.get((operation_id, status)) if self.error_shapes else None
        errors = body.get("errors") or [{}]
        first = errors[0]
        if shape == "message":
            return {"message": first.get("message", "")}
        if shape == "errorsList":
            return {"isInTrustlyNetwork": False, "errorsList": errors}
        if shape == "bare":
            return first
        return body

    def _reshape(self, schema: dict[str, Any], value: Any, name: str | None = None) -> Any:
        schema, name = _resolve(schema, name)
        if isinstance(value, list):
            items = schema.get("items", {})
            return [self._reshape(items, item) for item in value]
        if not isinstance(value, dict):
            return value
        properties, required = _object(schema)
        omitted = OMITTED.get(name or "", frozenset()) if self.omit_optional else frozenset()
        if self.anonymous_customers and name == "PaymentCustomer":
            omitted = omitted | {"customerId"}
        numeric = NUMERIC.get(name or "", frozenset()) if self.numeric_codes else frozenset()
        out: dict[str, Any] = {}
        for key, item in value.items():
            optional = key in properties and key not in required
            if optional and (key in omitted or (self.omit_optional and _empty(item))):
                continue
            if key in numeric and isinstance(item, str) and item.lstrip("-").isdigit():
                out[key] = float(item)
            elif key in properties:
                out[key] = self._reshape(properties[key], item)
            else:
                out[key] = item
        return out


def _resolve(schema: dict[str, Any], name: str | None) -> tuple[dict[str, Any], str | None]:
    schemas = load_spec()["components"]["schemas"]
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = schemas[name]
    return schema, name


def _object(schema: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Properties and required names of an object schema, with allOf parts merged."""
    properties = dict(schema.get("properties", {}))
    required = set(schema.get("required", []))
    for part in schema.get("allOf", []):
        resolved, _ = _resolve(part, None)
        more, needed = _object(resolved)
        properties.update(more)
        required |= needed
    return properties, required
