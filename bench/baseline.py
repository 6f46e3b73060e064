"""The baseline `make bench` compares against: the default openapi-python-client output.

It is what a merchant gets by running the generator we pin, with no templates and no
configuration, on Trustly's published OpenAPI file. `generate()` writes it into a scratch
folder on every run, so the comparison follows both the pinned generator and the file.

Trustly's published file types a few fields differently from our spec (the recurrence dates
are date-time strings there, epoch milliseconds in Trustly's docs and here; some enums have
fewer values), so the default client cannot decode a body that follows our spec.
`conform()` rewrites such values the way the published file describes them; the body keeps
its shape, its fields and almost exactly its size.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["PACKAGE", "PUBLISHED_SPEC", "conform", "generate", "published_schema"]

ROOT = Path(__file__).resolve().parent.parent

PUBLISHED_SPEC = Path(
    os.environ.get("TRUSTLY_PUBLISHED_SPEC", ROOT.parent / "shared" / "reference" / "trustly-north-america-openapi.yml")
)
"""Trustly's published OpenAPI file, beside the clone; TRUSTLY_PUBLISHED_SPEC names another copy."""

PACKAGE = "trustly_default"
"""The import name of the generated baseline package."""


def generate(into: Path) -> Path | None:
    """Generate the baseline package into `into`; its folder, or None when the published file is absent."""
    if not PUBLISHED_SPEC.is_file():
        return None
    scripts = Path(sys.executable).parent
    # The generator runs ruff as a post hook; the pinned ruff sits beside the pinned generator.
    env = {**os.environ, "PATH": os.pathsep.join([str(scripts), os.environ.get("PATH", "")])}
    output = into / PACKAGE
    subprocess.run(
        [
            str(scripts / "openapi-python-client"),
            "generate",
            "--path",
            str(PUBLISHED_SPEC),
            "--output-path",
            str(output),
            "--meta",
            "none",
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    return output


@cache
def _published() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(PUBLISHED_SPEC.read_text())
    return loaded


def published_schema(name: str) -> dict[str, Any]:
    """A component schema of Trustly's published file by name."""
    found: dict[str, Any] = _published()["components"]["schemas"][name]
    return found


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = published_schema(node["$ref"].rsplit("/", 1)[-1])
    return node


def _iso(milliseconds: int) -> str:
    return datetime.datetime.fromtimestamp(milliseconds / 1000, datetime.UTC).isoformat()


def conform(value: Any, node: dict[str, Any]) -> Any:
    """`value` (which follows our spec) rewritten where the published schema `node` types it otherwise."""
    node = _resolve(node)
    for combinator in ("oneOf", "anyOf"):
        if combinator in node:
            branches = [b for b in node[combinator] if _resolve(b).get("type") != "null"]
            node = _resolve(branches[0])
    if "enum" in node and value not in node["enum"]:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object" and isinstance(value, dict):
        properties = node.get("properties", {})
        result = {key: conform(item, properties[key]) if key in properties else item for key, item in value.items()}
        for key in node.get("required", []):
            if key not in result:
                result[key] = _filler(properties.get(key, {}))
        return result
    if kind == "array" and isinstance(value, list):
        return [conform(item, node.get("items", {})) for item in value]
    if kind == "string" and node.get("format") == "date-time" and isinstance(value, int):
        return _iso(value)
    if kind == "string" and not isinstance(value, str):
        return str(value)
    return value


def _filler(node: dict[str, Any]) -> Any:
    """A value for a property the published file requires and our spec does not have."""
    node = _resolve(node)
    if "enum" in node:
        return node["enum"][0]
    return {"string": "x", "integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {}}.get(
        node.get("type", "string"), "x"
    )
