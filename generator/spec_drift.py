"""What changed in a newly published Trustly OpenAPI file, and what of it our spec does not reflect yet.

`make spec-drift UPSTREAM=<file>` runs this. It reads three files: the dated baseline of
Trustly's published file kept in spec/upstream/, the newer published file, and our
hand-maintained spec. It compares what a client depends on, by wire names (our spec renames
schemas and operations, never paths, parameters or fields):

- operations (method and path) and their parameters;
- request and success-response properties, as dotted paths (`transactions[].payment.amount`);
- enum values at each of those places;
- webhooks (event types) and their payload properties.

Every difference between the baseline and the new file is printed; each one our spec does not
reflect (an addition it lacks, a removal it still has) is marked, and then the exit status is 1.
Differences that were already there in the baseline (our deliberate departures) are not drift.

Usage:
    python generator/spec_drift.py --upstream new.yml \
        --baseline spec/upstream/<dated>.yml --spec spec/trustly-openapi.yaml
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
WEBHOOK_PREFIX = "eventNotifications_"  # Trustly names webhooks `eventNotifications_<EventType>`
MAX_DEPTH = 10


@dataclass(frozen=True, order=True)
class Item:
    """One thing a client depends on, e.g. ("response property", "GET /transactions 200", "transactions[].status")."""

    kind: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.kind} {self.where}: {self.what}" if self.what else f"{self.kind} {self.where}"


class Surface:
    """The items of one OpenAPI document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._doc = document
        self._components = document.get("components", {})
        self.items: set[Item] = set()
        for path, path_item in (document.get("paths") or {}).items():
            for method in HTTP_METHODS:
                if isinstance(path_item, dict) and method in path_item:
                    self._operation(f"{method.upper()} {path}", path_item[method], path_item.get("parameters", []))
        for name, hook in (document.get("webhooks") or {}).items():
            event = name.removeprefix(WEBHOOK_PREFIX)
            for method in HTTP_METHODS:
                if isinstance(hook, dict) and method in hook:
                    self.items.add(Item("webhook", event, ""))
                    body = self._body_schema(hook[method])
                    if body is not None:
                        self._schema(Item("webhook property", event, ""), body, "")

    # -- walking ---------------------------------------------------------------------------
    def _resolve(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 50:
            section, name = node["$ref"].split("/")[-2:]
            node = self._components.get(section, {}).get(name, {})
            seen += 1
        return node

    def _body_schema(self, op: dict[str, Any]) -> Any:
        content = (self._resolve(op.get("requestBody")) or {}).get("content") or {}
        media = next(iter(content.values()), None)
        return None if media is None else media.get("schema")

    def _operation(self, where: str, op: dict[str, Any], shared: list[Any]) -> None:
        self.items.add(Item("operation", where, ""))
        for parameter in [*shared, *op.get("parameters", [])]:
            parameter = self._resolve(parameter)
            if not isinstance(parameter, dict) or "name" not in parameter:
                continue
            label = f"{parameter.get('in', '?')} {parameter['name']}"
            self.items.add(Item("parameter", where, label))
            self._enum(where, label, self._resolve(parameter.get("schema", {})))
            schema = self._resolve(parameter.get("schema", {}))
            if isinstance(schema, dict) and schema.get("type") == "array":
                self._enum(where, label, self._resolve(schema.get("items", {})))
        body = self._body_schema(op)
        if body is not None:
            self._schema(Item("request property", where, ""), body, "")
        ok = self._resolve((op.get("responses") or {}).get("200")) or {}
        media = next(iter((ok.get("content") or {}).values()), None)
        if media is not None and "schema" in media:
            self._schema(Item("response property", f"{where} 200", ""), media["schema"], "")

    def _enum(self, where: str, label: str, schema: Any) -> None:
        if isinstance(schema, dict):
            for value in schema.get("enum", []):
                self.items.add(Item("enum value", where, f"{label} = {value}"))

    def _schema(self, owner: Item, node: Any, prefix: str, depth: int = 0, seen: frozenset[str] = frozenset()) -> None:
        if depth > MAX_DEPTH or not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen:  # a recursive schema: its properties are already listed once
                return
            seen = seen | {ref}
        node = self._resolve(node)
        if not isinstance(node, dict):
            return
        if prefix:
            self._enum(owner.where, f"{owner.kind.split()[0]} {prefix}", node)
        for part in [*node.get("allOf", []), *node.get("oneOf", []), *node.get("anyOf", [])]:
            self._schema(owner, part, prefix, depth + 1, seen)
        if node.get("type") == "array" or "items" in node:
            self._schema(owner, node.get("items", {}), f"{prefix}[]", depth + 1, seen)
        for name, child in (node.get("properties") or {}).items():
            path = f"{prefix}.{name}" if prefix else name
            self.items.add(Item(owner.kind, owner.where, path))
            self._schema(owner, child, path, depth + 1, seen)


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    if not isinstance(document, dict) or "openapi" not in document:
        raise SystemExit(f"spec-drift: {path} is not an OpenAPI document")
    return document


@dataclass
class Drift:
    added: list[Item]
    removed: list[Item]
    unreflected: set[Item]

    def lines(self) -> Iterator[str]:
        for sign, items in (("+", self.added), ("-", self.removed)):
            for item in items:
                note = "  <- not in our spec" if sign == "+" else "  <- still in our spec"
                yield f"  {sign} {item}{note if item in self.unreflected else ''}"


def compare(baseline: dict[str, Any], upstream: dict[str, Any], ours: dict[str, Any]) -> Drift:
    """The upstream changes since the baseline, and those our spec does not reflect."""
    before, after, mine = Surface(baseline).items, Surface(upstream).items, Surface(ours).items
    added, removed = sorted(after - before), sorted(before - after)
    unreflected = {item for item in added if item not in mine} | {item for item in removed if item in mine}
    return Drift(added, removed, unreflected)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", type=Path, required=True, help="the newly published Trustly file")
    parser.add_argument("--baseline", type=Path, required=True, help="the published file our spec last followed")
    parser.add_argument("--spec", type=Path, required=True, help="our spec")
    args = parser.parse_args(argv)
    drift = compare(load(args.baseline), load(args.upstream), load(args.spec))
    print(f"spec-drift: {args.upstream} against the baseline {args.baseline.name}")
    if not drift.added and not drift.removed:
        print("No upstream changes: our spec is as current as the baseline.")
        return 0
    for line in drift.lines():
        print(line)
    total = len(drift.added) + len(drift.removed)
    print(f"{total} upstream change(s); {len(drift.unreflected)} not reflected in {args.spec}.")
    if drift.unreflected:
        print("Reflect them in the spec (with `# why:` where ours departs), then make the new file the baseline.")
        return 1
    print("Our spec reflects every change: make the new file the baseline.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
