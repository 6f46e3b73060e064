"""Request checks driven by spec/trustly-openapi.yaml, so the simulator accepts what the spec does.

Parameters and bodies are coerced from their wire form (query strings and form fields are
text) to the types the spec declares, then validated with JSON Schema (draft 2020-12, which
OpenAPI 3.1 uses). A failure becomes a 400 in Trustly's error envelope naming the field.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import yaml
from jsonschema import Draft202012Validator, FormatChecker

from trustly_api_client.operations import OPERATIONS

from ._ledger import ApiError, invalid

__all__ = ["Route", "load_routes"]

_SNAKE = {(o.method, o.path): o.operation_id for o in OPERATIONS.values()}

# JSON Schema's own checks plus the integer widths OpenAPI adds.
_FORMATS = FormatChecker()


@_FORMATS.checks("int64")
def _int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


@_FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


_METHODS = ("get", "post", "put", "delete", "patch")


def spec_path() -> Path:
    """The spec shipped inside the package, or the repository's copy when run from source."""
    packaged = Path(__file__).with_name("trustly-openapi.yaml")
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parents[3] / "spec" / "trustly-openapi.yaml"


@functools.cache
def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(spec_path().read_text())
    return spec


class Route:
    """One operation: its path pattern and the checks on its parameters and body."""

    def __init__(self, method: str, path: str, op: dict[str, Any], components: dict[str, Any]) -> None:
        self.method = method.upper()
        self.path = path
        # The client's snake_case ids (transactions_capture_pre_auth), shared with fault plans.
        self.operation_id: str = _SNAKE[(self.method, path)]
        self.regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")
        self.params: list[dict[str, Any]] = [
            components["parameters"][p["$ref"].rsplit("/", 1)[-1]] if "$ref" in p else p
            for p in op.get("parameters", [])
        ]
        self._components = components
        content = op.get("requestBody", {}).get("content", {})
        self.body_required = bool(op.get("requestBody", {}).get("required"))
        self.content_type: str | None = next(iter(content), None)
        self.body_schema: dict[str, Any] | None = content[self.content_type]["schema"] if self.content_type else None
        # The media type the evidence leaves open is accepted too, so a client switched to it works here.
        alternate = op.get("x-trustly-alternate-content-type")
        self.content_types = {t for t in (self.content_type, alternate) if t is not None}
        self.response_schema: dict[str, Any] = op["responses"]["200"]["content"]["application/json"]["schema"]

    def response_problem(self, data: Any) -> str | None:
        """Why a 200 body breaks the spec (a simulator bug), or None."""
        error = next(iter(self.validator(self.response_schema).iter_errors(data)), None)
        if error is None:
            return None
        return f"{'.'.join(str(p) for p in error.absolute_path) or 'body'}: {error.message}"[:500]

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        return Draft202012Validator({**schema, "components": self._components}, format_checker=_FORMATS)

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self._components["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def _coerce(self, schema: dict[str, Any], value: Any) -> Any:
        schema = self.resolve(schema)
        kinds = schema.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if isinstance(value, list):
            return [self._coerce(schema.get("items", {}), v) for v in value] if "array" in kinds else value[-1]
        if not isinstance(value, str):
            return value
        if "integer" in kinds and re.fullmatch(r"-?\d+", value):
            return int(value)
        if "boolean" in kinds and value in ("true", "false"):
            return value == "true"
        return value

    def check(self, name: str, schema: dict[str, Any], value: Any) -> Any:
        coerced = self._coerce(schema, value)
        error = next(iter(self.validator(schema).iter_errors(coerced)), None)
        if error is not None:
            where = ".".join(str(p) for p in error.absolute_path)
            raise invalid(f"{name}.{where}" if where else name, f"invalid {name}: {error.message}"[:300])
        return coerced

    def parse_query(self, query: str) -> dict[str, Any]:
        pairs = parse_qsl(query, keep_blank_values=True)
        values: dict[str, list[str]] = {}
        for key, value in pairs:
            values.setdefault(key, []).append(value)
        declared = {p["name"] for p in self.params if p["in"] == "query"}
        unknown = sorted(set(values) - declared)
        if unknown:
            raise invalid(unknown[0][:100], f"unknown query parameter {unknown[0][:100]!r}")
        out: dict[str, Any] = {}
        for param in self.params:
            name, where = param["name"], param["in"]
            if where != "query":
                continue
            if name not in values:
                if param.get("required"):
                    raise invalid(name, f"{name} is required")
                continue
            raw: Any = values[name]
            schema = param.get("schema", {})
            if self.resolve(schema).get("type") != "array":
                raw = raw[-1]
            out[name] = self.check(name, schema, raw)
        return out

    def check_path(self, values: dict[str, str]) -> dict[str, str]:
        decoded = {name: unquote(value) for name, value in values.items()}
        for param in self.params:
            if param["in"] == "path":
                self.check(param["name"], param.get("schema", {}), decoded.get(param["name"], ""))
        return decoded

    def check_headers(self, headers: dict[str, str]) -> None:
        for param in self.params:
            if param["in"] == "header":
                value = headers.get(param["name"].lower())
                if value is None:
                    if param.get("required"):
                        raise invalid(param["name"], f"the {param['name']} header is required")
                    continue
                self.check(param["name"], param.get("schema", {}), value)

    def parse_body(self, content_type: str, body: bytes) -> Any:
        if self.body_schema is None or self.content_type is None:
            return None
        if not body:
            if self.content_type == "application/x-www-form-urlencoded":
                return self.check("body", self.body_schema, {})  # an empty form is an empty object
            if self.body_required:
                raise invalid("body", "a request body is required")
            return None
        sent = content_type.split(";")[0].strip().lower()
        if sent not in self.content_types:
            raise ApiError(415, 200, f"the body must be {' or '.join(sorted(self.content_types))}", "Content-Type")
        try:
            text = body.decode("utf-8")
            if sent == "application/json":
                data: Any = json.loads(text)
            else:
                data = self.unflatten_form(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise invalid("body", "the body cannot be parsed") from None
        return self.check("body", self.body_schema, data)

    def unflatten_form(self, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        """Form fields with dotted names (`beneficiary.address.zip`) as the nested body they flatten.

        Each name is followed through the body schema one segment at a time. In a closed object
        (additionalProperties: false) a name the spec does not declare is refused, as an unknown
        query parameter is; an open one keeps it, as its JSON form would. A name given twice, or
        used both for a value and for an object, is refused; a blank object field is an empty
        object. Values are coerced at their leaf.
        """
        body: dict[str, Any] = {}
        for name, value in pairs:
            schema, parent, segments = self.body_schema or {}, body, name.split(".")
            for depth, segment in enumerate(segments):
                props, closed = self._object_shape(schema)
                if props is None or (segment not in props and closed):
                    raise invalid(name[:100], f"unknown field {name[:100]!r}")
                last = depth == len(segments) - 1
                if segment not in props:  # an extra field of an open object, kept whole
                    segment, last = ".".join(segments[depth:]), True
                blank_object = value == "" and segment in props and self._object_shape(props[segment])[0] is not None
                if last and not blank_object:
                    if segment in parent:
                        raise invalid(name[:100], f"{name[:100]!r} is given twice")
                    parent[segment] = self._coerce(props[segment], value) if segment in props else value
                    break
                # Further down, or a blank object field: an empty object has no other form spelling.
                child = parent.setdefault(segment, {})
                if not isinstance(child, dict):
                    raise invalid(name[:100], f"{name[:100]!r} is both a value and an object")
                schema, parent = props[segment], child
        return body

    def _object_shape(self, schema: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
        """The properties of an object schema (through $ref, allOf and a nullable oneOf) and
        whether it is closed; None for a schema that is not an object."""
        schema = self.resolve(schema)
        for part in schema.get("oneOf", []):
            if self.resolve(part).get("type") != "null":
                return self._object_shape(part)
        props: dict[str, Any] = dict(schema.get("properties", {}))
        for part in schema.get("allOf", []):
            props.update(self._object_shape(part)[0] or {})
        if schema.get("type") != "object" and not props:
            return None, True
        return props, schema.get("additionalProperties") is False


@functools.cache
def load_routes() -> tuple[Route, ...]:
    spec = load_spec()
    routes = [
        Route(method, path, item[method], spec["components"])
        for path, item in spec["paths"].items()
        for method in _METHODS
        if method in item
    ]
    # Literal segments win over parameters: /customers/lookup before /customers/{customerId}.
    return tuple(sorted(routes, key=lambda r: (r.path.count("{"), -len(r.path))))
